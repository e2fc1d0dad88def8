import type { WorkloadContext, WorkloadModule } from '../../src/run/workload.js';
import type { AllreduceResult, RunResult } from '../../src/report/types.js';
import { PartialRunsError } from '../../src/run/workload.js';
import { round } from '../../src/report/types.js';
import { AggregationUnavailableError } from '../../src/topology/aggregation-manager.js';
import type { AlgorithmFactory, AllreduceAlgorithm, CollectiveStats } from './collective.js';
import { absSum, float32SumBound, makeTensor, referenceSum, verify, type Dtype, type Tensor } from './tensor.js';

export interface AllreduceSpec {
  algorithms: string[];
  bytes: number;
  dtype: Dtype;
  iterations: number;
  name?: string;
}

/** Algorithms by name, loaded on first use of the workload. */
const ALGORITHMS: Record<string, () => Promise<AlgorithmFactory>> = {
  ring: async () => (await import('./ring-allreduce.js')).createRing,
  switchml: async () => (await import('./switchml-client.js')).createSwitchml,
  sharp: async () => (await import('./sharp-client.js')).createSharp,
};

/**
 * Every algorithm (the ring too: it is the fallback) is loaded once, behind one promise, and
 * taken from `factories` from then on, never imported again. Workloads of a group start
 * together in virtual time only if none of them is still waiting on a module load when the sim
 * driver starts running events (a dynamic import may take a trip through the module loader's
 * thread); with one shared promise they all resume in the same microtask checkpoint, and a
 * fallback never waits on a load mid-run. Otherwise a sim report would depend on whether the
 * process had loaded the modules before.
 */
const factories = new Map<string, AlgorithmFactory>();
let loaded: Promise<void> | null = null;
function loadAlgorithms(): Promise<void> {
  return (loaded ??= Promise.all(Object.entries(ALGORITHMS).map(async ([name, load]) => void factories.set(name, await load()))).then(() => undefined));
}

/**
 * ATP-style fallback: an in-network algorithm whose switches cannot take the job (no free
 * aggregator slots on some switch, a bitmap too small) runs on the hosts instead, as the ring,
 * and says why. Any other failure is a failure.
 */
async function withFallback(factory: AlgorithmFactory, o: Parameters<AlgorithmFactory>[0]): Promise<AllreduceAlgorithm> {
  try {
    return await factory(o);
  } catch (e) {
    if (!(e instanceof AggregationUnavailableError)) throw e;
    const ring = await factories.get('ring')!(o);
    return {
      name: ring.name,
      fallback: `ring: ${e.message.replace(/^aggregation manager: /, '')}`,
      info: { fallbackFrom: e.switchName },
      run: (c) => ring.run(c),
      teardown: () => ring.teardown(),
    };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** What one process's workers made of an iteration, gathered from every process. */
interface IterationTally {
  sec: number;
  retransmissions: number;
  bytesSent: number;
  overflows: number;
  correct: boolean;
  maxAbsError: number;
  errorBound: number;
  wrongElements: number;
}

/** The output of a rank that lives in another process: never written here. */
const EMPTY: Record<Dtype, Tensor> = { float32: new Float32Array(0), int32: new Int32Array(0) };

function emptyLike(t: Tensor): Tensor {
  return t instanceof Int32Array ? new Int32Array(t.length) : new Float32Array(t.length);
}

/** The workers' gradients and what their sum must be: the same for every algorithm compared. */
interface Tensors {
  inputs: Tensor[];
  ref: Float64Array;
  /** float32: the per-element bound of a plain float32 sum; int32: exact (null) */
  sumBound: Float64Array | null;
}

function makeTensors(ctx: WorkloadContext, spec: AllreduceSpec): Tensors {
  const n = ctx.hosts.length;
  const seed = ctx.rng.fork('tensors').nextU32();
  const inputs = ctx.hosts.map((_, r) => makeTensor(spec.dtype, spec.bytes / 4, seed, r, n));
  return { inputs, ref: referenceSum(inputs), sumBound: spec.dtype === 'float32' ? float32SumBound(absSum(inputs), n) : null };
}

async function runAlgorithm(ctx: WorkloadContext, spec: AllreduceSpec, tensors: Tensors, name: string, index: number, total: number): Promise<AllreduceResult> {
  const workers = ctx.hosts;
  const n = workers.length;
  const length = spec.bytes / 4;
  const { inputs, ref, sumBound } = tensors;
  const aggregation = (ctx.fabric.spec.switchOptions?.aggregation as { slots: number; elementsPerPacket: number } | undefined) ?? { slots: 512, elementsPerPacket: 64 };
  const factory = factories.get(name);
  if (!factory) throw new Error(`unknown all-reduce algorithm ${name}`);
  const tier0 = await ctx.tierBytes();
  // job ids come from the leader, so every process's copy of concurrent workloads agrees on them
  const jobId = await ctx.cluster.atLeader(`allreduce ${name}: job id`, () => ctx.fabric.jobIds.next('allreduce'));
  const algo: AllreduceAlgorithm = await withFallback(factory, { ctx, workers, dtype: spec.dtype, length, aggregation, jobId });
  // this process's workers: every rank in one process, one per host node in `ina up`
  const here = workers.flatMap((h, r) => (ctx.cluster.isLocal(h.name) ? [r] : []));
  const timesSec: number[] = [];
  let retransmissions = 0;
  let bytesSent = 0;
  let overflows = 0;
  let correct = true;
  let maxAbsError = 0;
  let errorBound = 0;
  let wrongElements = 0;
  try {
    for (let it = 0; it < spec.iterations; it++) {
      const outputs = inputs.map((t, r) => (here.includes(r) ? emptyLike(t) : EMPTY[spec.dtype]));
      // Every worker is bound before any sends: the copies start each iteration together.
      await ctx.cluster.allGather(`allreduce ${name} iteration ${it}: start`, null);
      const t0 = ctx.clock.now();
      const done = algo.run({ iteration: it, dtype: spec.dtype, inputs, outputs });
      const stats: CollectiveStats = await ctx.driver.wait(done);
      const mine: IterationTally = { sec: (ctx.clock.now() - t0) / 1e9, retransmissions: stats.retransmissions, bytesSent: stats.bytesSent.reduce((s, b) => s + b, 0), overflows: stats.overflows ?? 0, correct: true, maxAbsError: 0, errorBound: 0, wrongElements: 0 };
      const bound = here.length > 0 ? (stats.errorBound ?? sumBound) : null;
      for (const r of here) {
        const v = verify(outputs[r]!, ref, bound);
        mine.correct &&= v.correct;
        mine.maxAbsError = Math.max(mine.maxAbsError, v.maxAbsError);
        mine.errorBound = Math.max(mine.errorBound, v.errorBound);
        mine.wrongElements += v.wrongElements;
      }
      // Workers stay bound (answering retransmissions) until every copy has its results.
      const all = await ctx.cluster.allGather(`allreduce ${name} iteration ${it}: results`, here.length > 0 ? mine : null);
      // the call took as long as its slowest process saw it take
      timesSec.push(Math.max(...all.map((t) => t.sec)));
      for (const t of all) {
        retransmissions += t.retransmissions;
        bytesSent += t.bytesSent;
        correct &&= t.correct;
        maxAbsError = Math.max(maxAbsError, t.maxAbsError);
        errorBound = Math.max(errorBound, t.errorBound);
        wrongElements += t.wrongElements;
      }
      // every worker sees the same overflowed sums
      overflows += Math.max(0, ...all.map((t) => t.overflows));
      ctx.progress((index + (it + 1) / spec.iterations) / total);
    }
  } finally {
    await algo.teardown();
  }
  const tier1 = await ctx.tierBytes();
  const tierBytes: Record<string, number> = {};
  for (const k of Object.keys(tier1)) tierBytes[k] = tier1[k]! - (tier0[k] ?? 0);
  const timeSec = median(timesSec);
  // Unshaped sim links take no virtual time: report 0 rather than an infinite bandwidth.
  const algbw = timeSec > 0 ? (spec.bytes * 8) / timeSec / 1e9 : 0;
  return {
    workload: 'allreduce',
    ...(spec.name ? { name: spec.name } : {}),
    algorithm: name,
    workers: n,
    bytes: spec.bytes,
    dtype: spec.dtype,
    iterations: spec.iterations,
    timeSec: round(timeSec, 9),
    timesSec: timesSec.map((t) => round(t, 9)),
    algbwGbps: round(algbw, 4),
    busbwGbps: round((algbw * 2 * (n - 1)) / n, 4),
    // nccl-tests' unit, 10^9 bytes per second (one more digit: the same precision as Gbit/s)
    algbwGBps: round(algbw / 8, 5),
    busbwGBps: round((algbw * 2 * (n - 1)) / n / 8, 5),
    bytesSentPerWorker: Math.round(bytesSent / n / spec.iterations),
    retransmissions,
    correct,
    maxAbsError,
    errorBound,
    fallback: algo.fallback,
    tierBytes,
    jobId,
    ...(algo.info ? { placement: algo.info } : {}),
    wrongElements,
    overflows,
  };
}

/** The row of an algorithm that failed: what it was asked to do, and why it did not. */
function failedRun(ctx: WorkloadContext, spec: AllreduceSpec, name: string, e: Error): RunResult {
  return {
    workload: 'allreduce',
    ...(spec.name ? { name: spec.name } : {}),
    algorithm: name,
    workers: ctx.hosts.length,
    bytes: spec.bytes,
    dtype: spec.dtype,
    iterations: spec.iterations,
    correct: false,
    error: e.message,
  };
}

const allreduce: WorkloadModule<AllreduceSpec> = {
  kind: 'allreduce',
  distributed: true,
  async run(ctx, spec) {
    if (ctx.hosts.length < 2) throw new Error('allreduce needs at least 2 workers');
    await loadAlgorithms();
    // Made once: every algorithm all-reduces the same gradients against the same reference.
    const tensors = makeTensors(ctx, spec);
    const runs: RunResult[] = [];
    for (const [i, name] of spec.algorithms.entries()) {
      try {
        runs.push(await runAlgorithm(ctx, spec, tensors, name, i, spec.algorithms.length));
      } catch (e) {
        // Each algorithm is reported on its own: a failed one is a row with its reason, and the
        // others' finished results stay. In one process the next algorithms still run; across
        // processes the copies' collective steps no longer line up, so the workload stops here
        // (the runner tells the other copies) with what it has.
        runs.push(failedRun(ctx, spec, name, e as Error));
        if (ctx.cluster.distributed) throw new PartialRunsError((e as Error).message, runs);
      }
    }
    return runs;
  },
};

export default allreduce;
