import type { Clock } from '../net/clock.js';
import type { Rng } from '../net/rng.js';
import type { Topology } from '../topology/types.js';
import type { LinkReport, RunResult } from '../report/types.js';
import type { HostStack } from '../host/host-stack.js';
import type { Driver } from './driver.js';
import type { Fabric } from './fabric.js';
import type { Cluster } from './cluster.js';
import type { RunHooks } from './hooks.js';

/** What a workload in hosts/ is given: the fabric's hosts, time, randomness and a driver. */
export interface WorkloadContext {
  readonly mode: 'sim' | 'udp';
  readonly clock: Clock;
  /** this workload's own stream, forked from the scenario's seed */
  readonly rng: Rng;
  readonly topology: Topology;
  readonly driver: Driver;
  readonly fabric: Fabric;
  /**
   * participating hosts, in the order the scenario names them; in a multi-process run the ones
   * living in other processes are stand-ins that carry a name and an address but no traffic
   */
  readonly hosts: readonly HostStack[];
  /** how this copy of the workload meets the others (trivial in one process) */
  readonly cluster: Cluster;
  /**
   * Bytes carried per tier so far, both directions summed (the report's tierBytes): read from
   * every node in a multi-process run, so only the leader's figures are meaningful.
   */
  tierBytes(): Promise<Record<string, number>>;
  /** Every link's counters so far (the report's links), read like tierBytes. */
  linkReports(): Promise<LinkReport[]>;
  /** the load-balancing scheme this fabric's switches run (switches.loadBalancing, or the variant) */
  readonly loadBalancing?: string;
  /** reports progress in [0, 1] for the progress bar */
  progress(fraction: number): void;
  /** a test's hooks into the workload's modules (none in a normal run) */
  readonly hooks?: RunHooks;
}

/** A workload kind, loaded by name from hosts/ (src never imports hosts directly). */
export interface WorkloadModule<S = unknown> {
  readonly kind: string;
  /** written with ctx.cluster, so it can run with its hosts spread over processes (`ina up`) */
  readonly distributed?: boolean;
  run(ctx: WorkloadContext, spec: S): Promise<RunResult[]>;
}

/**
 * A workload that failed part-way, with what it finished: `runs` are reported as they are (the
 * finished ones, and a row for the failed part naming its reason), not one `false` entry for
 * the whole workload.
 */
export class PartialRunsError extends Error {
  constructor(
    message: string,
    readonly runs: RunResult[],
  ) {
    super(message);
    this.name = 'PartialRunsError';
  }
}
