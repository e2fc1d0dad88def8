import type { Cluster } from '../run/cluster.js';
import type { ScopedCluster } from '../run/runner.js';
import { AggregationUnavailableError } from '../topology/aggregation-manager.js';
import type { NodeMessage, WireError } from './messages.js';

/** Errors that callers tell apart by class, rebuilt with their fields on the other side. */
const REVIVERS: Record<string, (message: string, fields: Readonly<Record<string, unknown>>) => Error> = {
  AggregationUnavailableError: (m, f) => new AggregationUnavailableError(m, Number(f.jobId), String(f.switchName)),
};

export function toWireError(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (typeof v !== 'function' && typeof v !== 'object') fields[k] = v;
  return { name: e.name, message: e.message, fields };
}

export function fromWireError(w: WireError): Error {
  const revive = REVIVERS[w.name];
  if (revive) return revive(w.message, w.fields ?? {});
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

/** A workload step that cannot finish because some copy of the workload failed. */
export class WorkloadAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkloadAbortedError';
  }
}

type Outcome = { value: unknown } | { error: WireError };

interface Waiting {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export interface CollectivesOptions {
  readonly isLeader: boolean;
  /** the hosts that live in this process */
  readonly local: ReadonlySet<string>;
  /** to the coordinator's hub (over the channel, or a direct call in the coordinator) */
  readonly post: (m: NodeMessage) => void;
  /** the leader runs this after an atLeader function and before its result goes out */
  readonly beforePublish?: () => Promise<void>;
}

/**
 * One process's side of the workload collectives (see Cluster): steps are numbered per scope
 * (one scope per workload run), sent to the coordinator's hub, and settled by what it sends
 * back. Results that arrive before this copy asks for them wait in `early`.
 */
export class Collectives {
  private readonly waiting = new Map<string, Waiting>();
  private readonly early = new Map<string, Outcome>();
  private readonly aborted = new Map<string, string>();
  private readonly abortListeners = new Map<string, Set<(message: string) => void>>();

  constructor(private readonly o: CollectivesOptions) {}

  scope(name: string): ScopedCluster {
    let step = 0;
    const o = this.o;
    const nextKey = (): string => `${name}#${step++}`;
    const cluster: Cluster = {
      isLeader: o.isLeader,
      distributed: true,
      isLocal: (h) => o.local.has(h),
      allGather: async <T>(label: string, value: T | null): Promise<T[]> => {
        const key = nextKey();
        const result = this.expect(name, key, label);
        o.post({ t: 'gather', key, label, value });
        return (await result) as T[];
      },
      atLeader: async <T>(label: string, fn: () => T | Promise<T>): Promise<T> => {
        const key = nextKey();
        if (!o.isLeader) return (await this.expect(name, key, label)) as T;
        this.throwIfAborted(name);
        let value: T;
        try {
          value = await fn();
          await o.beforePublish?.();
        } catch (e) {
          o.post({ t: 'led', key, error: toWireError(e) });
          throw e;
        }
        o.post({ t: 'led', key, value });
        return value;
      },
    };
    return {
      cluster,
      abort: (e) => {
        if (!this.aborted.has(name)) o.post({ t: 'abort', scope: name, message: e.message });
      },
      onAbort: (cb) => {
        const m = this.aborted.get(name);
        if (m !== undefined) {
          cb(m);
          return () => {};
        }
        let set = this.abortListeners.get(name);
        if (!set) this.abortListeners.set(name, (set = new Set()));
        set.add(cb);
        return () => void set.delete(cb);
      },
    };
  }

  /** The hub's answer for a step. */
  settle(key: string, outcome: Outcome): void {
    const w = this.waiting.get(key);
    if (!w) {
      this.early.set(key, outcome);
      return;
    }
    this.waiting.delete(key);
    if ('error' in outcome) w.reject(fromWireError(outcome.error));
    else w.resolve(outcome.value);
  }

  /** Some copy of this scope's workload failed: every step of it, now or later, fails too. */
  abortScope(scope: string, message: string): void {
    if (this.aborted.has(scope)) return;
    this.aborted.set(scope, message);
    for (const cb of this.abortListeners.get(scope) ?? []) cb(message);
    this.abortListeners.delete(scope);
    for (const [key, w] of [...this.waiting]) {
      if (key.startsWith(`${scope}#`)) {
        this.waiting.delete(key);
        w.reject(new WorkloadAbortedError(message));
      }
    }
  }

  /** Everything still waiting fails (the run is being torn down). */
  abortAll(message: string): void {
    for (const [key, w] of [...this.waiting]) {
      this.waiting.delete(key);
      w.reject(new WorkloadAbortedError(message));
    }
  }

  private throwIfAborted(scope: string): void {
    const m = this.aborted.get(scope);
    if (m !== undefined) throw new WorkloadAbortedError(m);
  }

  private expect(scope: string, key: string, _label: string): Promise<unknown> {
    this.throwIfAborted(scope);
    const got = this.early.get(key);
    if (got) {
      this.early.delete(key);
      return 'error' in got ? Promise.reject(fromWireError(got.error)) : Promise.resolve(got.value);
    }
    return new Promise((resolve, reject) => this.waiting.set(key, { resolve, reject }));
  }
}
