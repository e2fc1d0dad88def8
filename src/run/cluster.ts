/**
 * How the copies of one workload agree when its hosts live in several processes.
 *
 * A workload runs as one program in every process that takes part (the coordinator and every
 * host node), the way an MPI job runs one program on every rank: each copy starts agents only on
 * the hosts that live in its process (`isLocal`), and the copies meet at collective steps. Every
 * copy must make the same collective calls in the same order; a step is known by its position
 * in that order, the label only names it in errors. In one process (`ina run`) every host is
 * local, the process is the leader, and the collectives return at once.
 */
export interface Cluster {
  /** true in exactly one copy: the one whose results are reported */
  readonly isLeader: boolean;
  /** false for a single-process run */
  readonly distributed: boolean;
  isLocal(host: string): boolean;
  /**
   * Waits until every copy has reached this step and returns every copy's value (nulls left
   * out) in a fixed participant order. With null from everyone it is a barrier.
   */
  allGather<T>(label: string, value: T | null): Promise<T[]>;
  /**
   * Runs `fn` in the leader's copy only (e.g. a control-plane change, which must happen once)
   * and gives every copy its result; a throw is rethrown in every copy, with its message.
   * Values cross processes as JSON (Maps, Sets, bigints and byte arrays survive).
   */
  atLeader<T>(label: string, fn: () => T | Promise<T>): Promise<T>;
}

/** Every host in this process: the collectives are the identity. */
export const LOCAL_CLUSTER: Cluster = {
  isLeader: true,
  distributed: false,
  isLocal: () => true,
  allGather: async <T>(_label: string, value: T | null) => (value === null ? [] : [value]),
  atLeader: async <T>(_label: string, fn: () => T | Promise<T>) => fn(),
};
