import type { WorkloadContext } from '../../src/run/workload.js';
import type { HostStack } from '../../src/host/host-stack.js';
import type { Deferred } from '../../src/run/deferred.js';
import type { Dtype, Tensor } from './tensor.js';

/** One all-reduce call: every worker's input, and where each worker's result goes. */
export interface CollectiveCall {
  readonly iteration: number;
  readonly dtype: Dtype;
  readonly inputs: readonly Tensor[];
  /** written by the algorithm: outputs[r] is worker r's result */
  readonly outputs: Tensor[];
}

export interface CollectiveStats {
  /** frames sent again after a timeout or NACK, all of this process's workers */
  retransmissions: number;
  /** bytes each of this process's workers put on its link (frames, headers included) */
  bytesSent: number[];
  /**
   * per-element error bound where the algorithm's arithmetic is not a plain float32 sum
   * (e.g. quantization); null means "use the float32 summation bound" (int32 is always exact).
   * May be a getter computed on first read: the harness reads it after it has stopped the
   * clock, so a pass over the tensor to make it is not counted in the call's time.
   */
  errorBound: Float64Array | null;
  /** int32 additions that overflowed (wrapped) in the switch */
  overflows?: number;
}

/**
 * An all-reduce algorithm bound to a set of workers for the length of a workload: set up
 * once (e.g. allocate switch slots), called per iteration, torn down at the end.
 */
export interface AllreduceAlgorithm {
  readonly name: string;
  /** not null when the algorithm fell back to another path, and why (ATP-style) */
  readonly fallback: string | null;
  /** where it ran, for the report (e.g. the aggregation switch, or the tree's root and switches) */
  readonly info?: Readonly<Record<string, unknown>>;
  /** starts one all-reduce; the Deferred settles when every worker holds its result */
  run(call: CollectiveCall): Deferred<CollectiveStats>;
  /** frees the algorithm's state (a collective step in a multi-process run: every copy calls it) */
  teardown(): void | Promise<void>;
}

export interface AlgorithmOptions {
  readonly ctx: WorkloadContext;
  readonly workers: readonly HostStack[];
  readonly dtype: Dtype;
  readonly length: number;
  /** the scenario's switches.aggregation section */
  readonly aggregation: { slots: number; elementsPerPacket: number };
  /** job number, unique among jobs running at once (the frames' dstPort) */
  readonly jobId: number;
}

export type AlgorithmFactory = (o: AlgorithmOptions) => Promise<AllreduceAlgorithm>;
