import type { Switch } from '../switch/switch.js';
import { SHARP_REG_DONE, SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ } from '../topology/aggregation-manager.js';
import type { CoordinatorMessage, NodeMessage, SlotCopyState } from './messages.js';

/**
 * Reading an aggregation switch's slot copy from another process, for the blame of a round that
 * did not complete (hosts/aggregation-blame.ts): the worker's node asks the coordinator
 * (`slot-query`), the coordinator asks the switch's node (`read-slot`), the switch's node reads
 * its registers (`slot`), and the coordinator answers the worker's node (`slot-state`). Every
 * wait is bounded: a switch node that is stopped or gone is itself the answer ("does not answer
 * its control channel"), never a hang of the failing job.
 */

/** How long the coordinator waits for the switch's node. */
export const SWITCH_ANSWER_MS = 2000;
/** How long a worker's node waits for the coordinator (longer: the coordinator's own wait is in it). */
export const COORDINATOR_ANSWER_MS = 5000;

/** The copy's registers, read where the switch runs (its own process). */
export function readSlotCopy(sw: Switch, copy: number): SlotCopyState {
  const cp = sw.controlPlane;
  // a flat job's copy has no done flag: complete means the result was sent
  const done = sw.pipeline.registers.has(SHARP_REG_DONE) ? cp.readRegister(SHARP_REG_DONE, copy) : 1;
  return { bitmap: cp.readRegister(SML_REG_BITMAP, copy), count: cp.readRegister(SML_REG_COUNT, copy), seq: cp.readRegister(SML_REG_SEQ, copy), done };
}

const FIELDS = ['bitmap', 'count', 'seq', 'done'] as const;

/** A slot state as it came over the channel, checked: four unsigned 32-bit registers. */
export function checkSlotState(x: unknown): SlotCopyState {
  if (typeof x !== 'object' || x === null) throw new Error(`slot state: expected an object, got ${x === null ? 'null' : typeof x}`);
  const o = x as Record<string, unknown>;
  for (const k of FIELDS) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`slot state: ${k} must be an unsigned 32-bit integer, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return { bitmap: o.bitmap as number, count: o.count as number, seq: o.seq as number, done: o.done as number };
}

/** Requests by id, each settled once: by its answer, or by `onTimeout` after `ms`. */
class Pending<T> {
  private nextId = 1;
  private readonly waiting = new Map<number, { settle(v: T): void; timer: NodeJS.Timeout }>();

  open(ms: number, settle: (v: T) => void, onTimeout: () => T): number {
    const id = this.nextId++;
    const timer = setTimeout(() => this.settle(id, onTimeout()), ms);
    timer.unref?.();
    this.waiting.set(id, { settle, timer });
    return id;
  }

  settle(id: number, v: T): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.settle(v);
  }

  /** Every open request ends now with `v`. */
  closeAll(v: T): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, v);
  }
}

type Answer = { state: SlotCopyState } | { error: string };

function toAnswer(m: { state?: unknown; error?: string }): Answer {
  if (m.error !== undefined) return { error: m.error };
  try {
    return { state: checkSlotState(m.state) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** A worker node's side: asks the coordinator for a switch's slot copy. */
export class SlotReader {
  private readonly pending = new Pending<Answer>();

  constructor(
    private readonly post: (m: NodeMessage) => void,
    private readonly timeoutMs = COORDINATOR_ANSWER_MS,
  ) {}

  /** The copy's state; rejects with why it cannot be read (the switch's node silent, ...). */
  read(fabric: number, sw: string, copy: number): Promise<SlotCopyState> {
    return new Promise((resolve, reject) => {
      const id = this.pending.open(
        this.timeoutMs,
        (a) => ('state' in a ? resolve(a.state) : reject(new Error(a.error))),
        () => ({ error: `the coordinator did not answer a read of ${sw}'s slot state within ${this.timeoutMs / 1000} s` }),
      );
      this.post({ t: 'slot-query', id, fabric, switch: sw, copy });
    });
  }

  /** The coordinator's `slot-state`. */
  settle(m: Extract<CoordinatorMessage, { t: 'slot-state' }>): void {
    this.pending.settle(m.id, toAnswer(m));
  }

  close(reason: string): void {
    this.pending.closeAll({ error: reason });
  }
}

/**
 * The coordinator's side: passes a worker node's query on to the switch's node and its answer
 * back. `send` returns false when the node is not connected.
 */
export class SlotReadRelay {
  private readonly pending = new Pending<Answer>();
  /** request id -> the switch node asked (only it may answer) */
  private readonly asked = new Map<number, string>();

  constructor(
    private readonly send: (node: string, m: CoordinatorMessage) => boolean,
    private readonly timeoutMs = SWITCH_ANSWER_MS,
  ) {}

  query(from: string, q: Extract<NodeMessage, { t: 'slot-query' }>): void {
    const silent = `${q.switch} does not answer its control channel`;
    const id = this.pending.open(
      this.timeoutMs,
      (a) => {
        this.asked.delete(id);
        this.send(from, { t: 'slot-state', id: q.id, ...a });
      },
      () => ({ error: `${silent} (no reply within ${this.timeoutMs / 1000} s)` }),
    );
    this.asked.set(id, q.switch);
    // (every switch is a node of its own name)
    if (!this.send(q.switch, { t: 'read-slot', id, fabric: q.fabric, switch: q.switch, copy: q.copy })) this.pending.settle(id, { error: `${silent} (not connected)` });
  }

  /** A switch node's `slot`. */
  answer(from: string, m: Extract<NodeMessage, { t: 'slot' }>): void {
    if (this.asked.get(m.id) === from) this.pending.settle(m.id, toAnswer(m));
  }

  close(reason: string): void {
    this.pending.closeAll({ error: reason });
  }
}
