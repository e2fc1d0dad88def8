import type { Fabric } from '../../src/run/fabric.js';
import type { SlotCopyState } from '../../src/cluster/messages.js';
import { readSlotCopy } from '../../src/cluster/slot-read.js';

/**
 * Who to blame when an aggregation round does not complete. A worker that runs out of
 * retransmissions only knows that its result did not come; the switch it sends to knows whose
 * contributions the round holds (the copy's bitmap), so the error names the members still
 * missing, and says whether the switch itself answers (when this worker last got a result from
 * it). In a tree, a round complete at a switch whose total has not come down is followed up to
 * the parent, and so on. A stalled or cut-off member is named, not the aggregator or the
 * worker that noticed.
 */
export interface BlameInput {
  readonly fabric: Fabric;
  /** the switch the worker sends its updates to */
  readonly switchName: string;
  /** per switch of the job: its slot base, its members in bit order, its parent (trees) */
  readonly level: (name: string) => JobSwitch | undefined;
  readonly slot: number;
  /** the slot copy (the round's parity) */
  readonly ver: number;
  /** the round's sequence number (the packet the worker retransmitted) */
  readonly packet: number;
  /** the worker that gave up */
  readonly host: string;
  /** when the worker last got a result from the switch in this call (ns), or -1 */
  readonly lastResultNs: number;
  readonly nowNs: number;
}

export interface JobSwitch {
  readonly slotBase: number;
  /** workers, or child switches in a tree, in bitmap order */
  readonly members: readonly string[];
  readonly parent: string | null;
}

/**
 * The clause after the failure: what the switches' slot copies hold, and whether the switch
 * answers. Computed at once when every switch runs in this process; a promise when a copy is
 * read from another process (under `ina up`, through the coordinator, in bounded time).
 */
export function withBlame(failure: string, o: BlameInput): string | Promise<string> {
  return then(blameClause(o), (clause) => `${failure}: ${clause}`);
}

function blameClause(o: BlameInput): Maybe<string> {
  const sw = o.switchName;
  const unread = new Set<string>();
  return then(roundAt(o, sw, o.host, unread), (round) => {
    const since = o.lastResultNs >= 0 ? `its last result reached ${o.host} ${interval(o.nowNs - o.lastResultNs)} earlier` : '';
    // a switch whose node did not give its slot state is not said to answer on the strength of an old result
    const answers =
      o.lastResultNs < 0 ? `${sw} sent ${o.host} no result in this call` : unread.has(sw) ? since : `${sw} itself answers (${since})`;
    return `${round}; ${answers}`;
  });
}

/** A time span as people read it: µs below a millisecond (as the simulator's are), ms, s. */
function interval(ns: number): string {
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${(ns / 1e9).toFixed(1)} s`;
}

type Maybe<T> = T | Promise<T>;

/** `f` of `x`, synchronously when `x` is a value (an in-process run's error is made at once). */
function then<T, U>(x: Maybe<T>, f: (v: T) => Maybe<U>): Maybe<U> {
  return x instanceof Promise ? x.then(f) : f(x);
}

/** What the round looks like on `sw`, and above it while it is complete there but not done. */
function roundAt(o: BlameInput, sw: string, below: string, unread: Set<string>, depth = 0): Maybe<string> {
  const level = o.level(sw);
  if (level === undefined) return `${sw}'s slot state is not readable from this process`;
  return then(readCopy(o.fabric, sw, 2 * (level.slotBase + o.slot) + o.ver), (slot) => {
    if (slot instanceof Unread) {
      unread.add(sw);
      return slot.why;
    }
    if (typeof slot === 'string') return slot;
    const has = (i: number): boolean => ((slot.bitmap >>> i) & 1) === 1;
    const contributed = level.members.filter((_, i) => has(i));
    const missing = level.members.filter((_, i) => !has(i));
    if (slot.seq !== o.packet) {
      return `${sw} holds no part of packet ${o.packet} (its copy is at packet ${slot.seq}): missing contributions from ${list(level.members)}`;
    }
    if (slot.count !== 0 || contributed.length === 0) {
      return `the round on ${sw} waits for ${list(missing)} (contributions arrived from ${list(contributed)})`;
    }
    if (level.parent !== null && slot.done === 0 && depth < 8) {
      const parent = level.parent;
      return then(roundAt(o, parent, sw, unread, depth + 1), (above) => `the round completed on ${sw} (every contribution arrived) but its total never came down from ${parent}: ${above}`);
    }
    return `the round completed on ${sw} (every contribution arrived); its result did not reach ${below}`;
  });
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'no one' : names.join(', ');
}

/** A remote read that failed: the switch's node (or the coordinator) did not give the state. */
class Unread {
  constructor(readonly why: string) {}
}

/**
 * The copy's registers, or why they cannot be read: from the switch itself when it runs in
 * this process (not a shadow copy), else through the fabric's remote reader (a worker node
 * under `ina up`), whose failure (the switch's node stopped, say) is the answer.
 */
function readCopy(fabric: Fabric, sw: string, copy: number): Maybe<SlotCopyState | string | Unread> {
  const s = fabric.switches.get(sw);
  if (s && fabric.isLocal(sw)) {
    try {
      return readSlotCopy(s, copy);
    } catch {
      return `${sw}'s slot state is not readable from this process`;
    }
  }
  const remote = fabric.spec.placement?.readSlot;
  if (!remote) return `${sw}'s slot state is not readable from this process`;
  return remote(sw, copy).catch((e: Error) => new Unread(`${sw}'s slot state could not be read: ${e.message}`));
}
