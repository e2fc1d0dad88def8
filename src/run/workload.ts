import type { Clock } from '../net/clock.js';
import type { Rng } from '../net/rng.js';
import type { Topology } from '../topology/types.js';
import type { RunResult } from '../report/types.js';
import type { HostStack } from './host-stack.js';
import type { Driver } from './driver.js';
import type { Fabric } from './fabric.js';

/** What a workload in hosts/ is given: the fabric's hosts, time, randomness and a driver. */
export interface WorkloadContext {
  readonly mode: 'sim' | 'udp';
  readonly clock: Clock;
  /** this workload's own stream, forked from the scenario's seed */
  readonly rng: Rng;
  readonly topology: Topology;
  readonly driver: Driver;
  readonly fabric: Fabric;
  /** participating hosts, in the order the scenario names them */
  readonly hosts: readonly HostStack[];
  /** the load-balancing scheme this fabric's switches run (switches.loadBalancing, or the variant) */
  readonly loadBalancing?: string;
  /** reports progress in [0, 1] for the progress bar */
  progress(fraction: number): void;
}

/** A workload kind, loaded by name from hosts/ (src never imports hosts directly). */
export interface WorkloadModule<S = unknown> {
  readonly kind: string;
  run(ctx: WorkloadContext, spec: S): Promise<RunResult[]>;
}
