import type { Collectives } from './collectives.js';
import type { CoordinatorMessage, NodeMessage } from './messages.js';

/** The coordinator's own name among the participants of a collective. */
export const COORDINATOR = 'coordinator';

interface PendingGather {
  readonly label: string;
  /**
   * when the first host node got here: the coordinator (no hosts of its own) gets to every
   * step at once, so its arrival says nothing about how long the step should take
   */
  since: number | null;
  /** when anyone got here: a step no host reaches at all is given up after twice the timeout */
  readonly created: number;
  readonly values: Map<string, unknown>;
}

export interface HubOptions {
  /** every process that runs the workloads, the coordinator first, in a fixed order */
  readonly participants: readonly string[];
  /** to one node (never called for the coordinator) */
  readonly send: (node: string, m: CoordinatorMessage) => void;
  /** the coordinator's own copy of the collectives */
  readonly local: Collectives;
  /** a step some copies never reach is given up after this long, naming them */
  readonly stepTimeoutMs: number;
}

/**
 * The meeting point of the workload collectives: gathers each step's values from every
 * participant and sends them back to all, passes on what the leader decided, and spreads a
 * copy's failure to every other copy. A step that some participant never reaches ends, after
 * stepTimeoutMs, as a failure of that workload naming who is missing (never a hang).
 */
export class Hub {
  private readonly gathers = new Map<string, PendingGather>();
  private readonly aborted = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: HubOptions) {
    this.timer = setInterval(() => this.checkStale(), Math.min(1000, o.stepTimeoutMs));
    this.timer.unref();
  }

  receive(from: string, m: NodeMessage): void {
    switch (m.t) {
      case 'gather': {
        const scope = scopeOf(m.key);
        if (this.aborted.has(scope)) return;
        let g = this.gathers.get(m.key);
        if (!g) this.gathers.set(m.key, (g = { label: m.label, since: null, created: Date.now(), values: new Map() }));
        if (from !== COORDINATOR && g.since === null) g.since = Date.now();
        g.values.set(from, m.value);
        if (g.values.size === this.o.participants.length) {
          this.gathers.delete(m.key);
          const values = this.o.participants.map((p) => g.values.get(p)).filter((v) => v !== null && v !== undefined);
          this.toNodes({ t: 'gathered', key: m.key, values });
          this.o.local.settle(m.key, { value: values });
        }
        return;
      }
      case 'led':
        // only the leader (the coordinator's copy) decides; its own copy already has the value
        if (from === COORDINATOR) this.toNodes(m.error ? { t: 'led', key: m.key, error: m.error } : { t: 'led', key: m.key, value: m.value });
        return;
      case 'abort':
        this.abort(m.scope, from === COORDINATOR ? m.message : `${from}: ${m.message}`);
        return;
      default:
        return;
    }
  }

  abort(scope: string, message: string): void {
    if (this.aborted.has(scope)) return;
    this.aborted.add(scope);
    for (const key of [...this.gathers.keys()]) if (scopeOf(key) === scope) this.gathers.delete(key);
    this.toNodes({ t: 'aborted', scope, message });
    this.o.local.abortScope(scope, message);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private toNodes(m: CoordinatorMessage): void {
    for (const p of this.o.participants) if (p !== COORDINATOR) this.o.send(p, m);
  }

  private checkStale(): void {
    const now = Date.now();
    for (const [key, g] of [...this.gathers]) {
      const late = g.since !== null ? now - g.since >= this.o.stepTimeoutMs : now - g.created >= 2 * this.o.stepTimeoutMs;
      if (!late) continue;
      const missing = this.o.participants.filter((p) => !g.values.has(p));
      this.abort(scopeOf(key), `step "${g.label}": ${missing.join(', ')} did not get there within ${this.o.stepTimeoutMs / 1000} s`);
    }
  }
}

function scopeOf(key: string): string {
  return key.slice(0, key.lastIndexOf('#'));
}
