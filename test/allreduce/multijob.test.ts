/**
 * Several jobs sharing switch memory: concurrent tree jobs (and flat SwitchML jobs) on one
 * fabric never mix contributions, every slot is free again after every job, and a job that
 * cannot get slots falls back to the ring (ATP-style) with the same exact results and a report
 * saying which job fell back and why.
 */
import { LOCAL_CLUSTER } from '../../src/run/cluster.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import sharp from '../../pipelines/sharp.js';
import { createSharp, SHARP_HOOKS } from '../../hosts/allreduce/sharp-client.js';
import { RunHooks } from '../../src/run/hooks.js';
import { createSwitchml } from '../../hosts/allreduce/switchml-client.js';
import type { AlgorithmFactory, AllreduceAlgorithm, CollectiveStats } from '../../hosts/allreduce/collective.js';
import { referenceSum, type Tensor } from '../../hosts/allreduce/tensor.js';
import type { SimClock } from '../../src/net/sim-clock.js';
import type { AllreduceResult, Report } from '../../src/report/types.js';
import { SimDriver } from '../../src/run/driver.js';
import { Fabric } from '../../src/run/fabric.js';
import { runScenario } from '../../src/run/runner.js';
import type { WorkloadContext } from '../../src/run/workload.js';
import { validateScenario } from '../../src/scenario/load.js';
import type { TreePlan } from '../../src/topology/aggregation-manager.js';
import { expectPoolsFree } from './helpers.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import type { TopologySpec } from '../../src/topology/types.js';

// ---- jobs driven directly on one fabric --------------------------------------------------------

interface Rig {
  fabric: Fabric;
  driver: SimDriver;
  /** the hooks every context of the rig carries */
  hooks: RunHooks;
  ctx(hosts: string[]): WorkloadContext;
}

async function rig(topology: TopologySpec, links: Record<string, number> = {}, slots = 64, seed = 1): Promise<Rig> {
  const fabric = await Fabric.build({
    topology: buildTopology(topology),
    mode: 'sim',
    seed,
    links,
    program: sharp,
    switchOptions: { aggregation: { slots, elementsPerPacket: 64 } },
  });
  const driver = new SimDriver(fabric.clock as SimClock);
  const hooks = new RunHooks();
  return {
    fabric,
    driver,
    hooks,
    ctx: (hosts) => ({
      hooks,
      mode: 'sim',
      clock: fabric.clock,
      rng: fabric.rng.fork(hosts.join(',')),
      cluster: LOCAL_CLUSTER,
      tierBytes: async () => fabric.tierBytes(),
        linkReports: async () => fabric.linkReports(),
      topology: fabric.topology,
      driver,
      fabric,
      hosts: hosts.map((h) => fabric.hosts.get(h)!),
      progress: () => {},
    }),
  };
}

/**
 * int32 tensors whose values carry the job's signature in their low bits: job j's values are
 * ≡ j (mod 16), so a sum of n of them is ≡ n·j (mod 16); a contribution of another job (or a
 * worker counted twice or not at all) shows in the sum.
 */
function signedTensors(job: number, workers: number, length: number, seed: number): Int32Array[] {
  return Array.from({ length: workers }, (_, r) => {
    const t = new Int32Array(length);
    let x = (seed ^ (job * 7919) ^ (r * 104729)) >>> 0;
    for (let i = 0; i < length; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      t[i] = (((x >>> 8) % 65536) - 32768) * 16 + job;
    }
    return t;
  });
}

/** No job is active, and every pool, entry and group is free (see expectPoolsFree). */
function expectAllFree(f: Fabric): void {
  expect(f.aggregation.activeTrees).toEqual([]);
  expect(f.aggregation.active).toEqual([]);
  expectPoolsFree(f);
}

interface Job {
  algo: AllreduceAlgorithm;
  inputs: Int32Array[];
  ref: Float64Array;
}

async function startJob(r: Rig, factory: AlgorithmFactory, jobId: number, hosts: string[], length: number, seed: number): Promise<Job> {
  const inputs = signedTensors(jobId, hosts.length, length, seed);
  const algo = await factory({ ctx: r.ctx(hosts), workers: r.ctx(hosts).hosts, dtype: 'int32', length, aggregation: { slots: 64, elementsPerPacket: 64 }, jobId });
  return { algo, inputs, ref: referenceSum(inputs) };
}

/** Runs `iterations` calls of every job concurrently; returns each job's outputs of the last. */
async function runTogether(r: Rig, jobs: Job[], iterations: number): Promise<Tensor[][]> {
  let outs: Tensor[][] = [];
  for (let it = 0; it < iterations; it++) {
    outs = jobs.map((j) => j.inputs.map((t) => new Int32Array(t.length)));
    const done = jobs.map((j, k) => r.driver.wait(j.algo.run({ iteration: it, dtype: 'int32', inputs: j.inputs, outputs: outs[k]! })));
    const stats: CollectiveStats[] = await Promise.all(done);
    expect(stats).toHaveLength(jobs.length);
    jobs.forEach((j, k) => {
      for (const out of outs[k]!) expect(Array.from(out)).toEqual(Array.from(j.ref));
    });
  }
  return outs;
}

describe('concurrent tree jobs on one fabric', () => {
  it('two jobs on a leaf-spine sharing leaves and spines: exact, never mixed, slot ranges disjoint, everything freed', async () => {
    const r = await rig({ kind: 'leaf-spine', leaves: 3, spines: 2, hostsPerLeaf: 4 }, { lossRate: 0.05, duplicateRate: 0.05 });
    try {
      const plans: TreePlan[] = [];
      r.hooks.with(SHARP_HOOKS, { onAllocate: (p) => plans.push(p) });
      const a = await startJob(r, createSharp, 1, ['h0', 'h1', 'h4', 'h5', 'h8'], 3000, 11);
      const b = await startJob(r, createSharp, 2, ['h2', 'h6', 'h7', 'h9', 'h10', 'h3'], 2500, 12);
      // they share all three leaves
      const shared = plans[0]!.switches.map((s) => s.name).filter((n) => plans[1]!.switches.some((s) => s.name === n));
      expect(shared.filter((n) => n.startsWith('leaf'))).toEqual(['leaf0', 'leaf1', 'leaf2']);
      for (const n of shared) {
        const [x, y] = plans.map((p) => p.switches.find((s) => s.name === n)!);
        expect(x!.slotBase + plans[0]!.slotCount <= y!.slotBase || y!.slotBase + plans[1]!.slotCount <= x!.slotBase, n).toBe(true);
        expect(x!.mcastGroup).not.toBe(y!.mcastGroup);
      }
      await runTogether(r, [a, b], 3);
      a.algo.teardown();
      b.algo.teardown();
      expectAllFree(r.fabric);
    } finally {
      await r.fabric.close();
    }
  });

  const pairArb = fc
    .oneof(
      fc.record({ leaves: fc.integer({ min: 1, max: 3 }), spines: fc.integer({ min: 1, max: 2 }), hostsPerLeaf: fc.integer({ min: 2, max: 4 }) }).map((t) => ({ kind: 'leaf-spine' as const, ...t })),
      fc.constant({ kind: 'fat-tree' as const, k: 4 }),
    )
    .chain((t) => {
      const hosts = buildTopology(t).hosts;
      const job = fc.shuffledSubarray(hosts, { minLength: 2 });
      return fc.record({ topology: fc.constant(t), a: job, b: job, flat: fc.boolean() });
    });

  it('property: two jobs on any hosts (overlapping or not), one of them maybe flat SwitchML, under loss, reorder and duplication: both exact, all freed', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairArb,
        fc.integer({ min: 1, max: 900 }),
        fc.integer({ min: 1, max: 900 }),
        fc.record({ lossRate: fc.constantFrom(0, 0.05, 0.1), reorderRate: fc.constantFrom(0, 0.1), duplicateRate: fc.constantFrom(0, 0.1) }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        async ({ topology, a, b, flat }, la, lb, links, seed) => {
          const r = await rig(topology, links, 64, seed);
          try {
            // a flat job needs every worker within 32 and one switch over them all: fine here
            const ja = await startJob(r, createSharp, 1, a, la, seed);
            const jb = await startJob(r, flat ? createSwitchml : createSharp, 2, b, lb, seed + 1);
            await runTogether(r, [ja, jb], 2);
            ja.algo.teardown();
            jb.algo.teardown();
            expectAllFree(r.fabric);
          } finally {
            await r.fabric.close();
          }
        },
      ),
      { numRuns: Number(process.env.MULTIJOB_RUNS ?? 10) },
    );
  }, 240_000);
});

// ---- through the runner: groups, fallback ------------------------------------------------------

function scenario(o: { mode?: 'sim' | 'udp'; seed?: number; topology: Record<string, unknown>; links?: Record<string, unknown>; slots: number; workloads: Array<Record<string, unknown>> }) {
  return validateScenario(
    {
      name: 'multijob',
      mode: o.mode ?? 'sim',
      seed: o.seed ?? 1,
      topology: o.topology,
      ...(o.links ? { links: o.links } : {}),
      switches: { aggregation: { slots: o.slots, elementsPerPacket: 64 } },
      workloads: o.workloads.map((w) => ({ kind: 'allreduce', group: 'g', iterations: 2, ...w })),
    },
    '<multijob.test>',
  );
}

const runsOf = (r: Report): AllreduceResult[] => r.runs as AllreduceResult[];
const FALLBACK = /^ring: no free slots on (\S+): job (\d+) needs (\d+), (\d+) left of (\d+)$/;

describe('ATP-style fallback', () => {
  it('a memory-starved fabric: the second job cannot get slots, runs on the ring, and the report says which job and why', async () => {
    const s = scenario({
      topology: { kind: 'leaf-spine', leaves: 2, spines: 1, hostsPerLeaf: 4 },
      slots: 8,
      workloads: [
        { algorithms: ['sharp'], bytes: 4 * 4000, dtype: 'int32', workers: ['h0', 'h1', 'h4', 'h5'] },
        { algorithms: ['sharp'], bytes: 4 * 3000, dtype: 'float32', workers: ['h2', 'h3', 'h6', 'h7'] },
      ],
    });
    const [a, b] = runsOf(await runScenario(s));
    expect(a).toMatchObject({ algorithm: 'sharp', correct: true, fallback: null, maxAbsError: 0, jobId: 1, placement: { root: 'spine0', window: 8 } });
    expect(b).toMatchObject({ algorithm: 'sharp', correct: true, jobId: 2 });
    expect(b!.fallback).toMatch(FALLBACK);
    const [, where, job, needs, left, pool] = FALLBACK.exec(b!.fallback!)!;
    expect([where, job, left, pool]).toEqual(['spine0', '2', '0', '8']);
    expect(Number(needs)).toBeGreaterThanOrEqual(1);
    expect(b!.maxAbsError).toBeLessThanOrEqual(b!.errorBound);
    // the ring's traffic, not the tree's: every worker sends 2(N-1)/N of its tensor and more
    expect(b!.bytesSentPerWorker).toBeGreaterThan(1.5 * 3000 * 4);
  });

  it('flat SwitchML falls back the same way', async () => {
    const s = scenario({
      topology: { kind: 'star', hosts: 4 },
      slots: 4,
      workloads: [
        { algorithms: ['switchml'], bytes: 4 * 2000, dtype: 'int32', workers: ['h0', 'h1'] },
        { algorithms: ['switchml'], bytes: 4 * 2000, dtype: 'int32', workers: ['h2', 'h3'] },
      ],
    });
    const [a, b] = runsOf(await runScenario(s));
    expect(a).toMatchObject({ correct: true, fallback: null, maxAbsError: 0 });
    expect(b).toMatchObject({ correct: true, maxAbsError: 0 });
    expect(b!.fallback).toMatch(/^ring: no 4 contiguous free aggregator slots on s0 for job 2/);
  });

  it('property: whatever the pool size and jobs, every job is exact (int32) or within bound (float32), in-network or fallen back, and no slot stays taken', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.array(
          fc.record({
            workers: fc.shuffledSubarray(['h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'], { minLength: 2 }),
            length: fc.integer({ min: 1, max: 1200 }),
            dtype: fc.constantFrom<'int32' | 'float32'>('int32', 'float32'),
            algorithm: fc.constantFrom('sharp', 'sharp', 'switchml'),
          }),
          { minLength: 2, maxLength: 3 },
        ),
        fc.integer({ min: 1, max: 1000 }),
        async (slots, jobs, seed) => {
          const released: TreePlan[] = [];
          const freeAfter: string[] = [];
          const hooks = new RunHooks().with(SHARP_HOOKS, {
            onRelease: (plan, fabric) => {
              released.push(plan);
              if (fabric.aggregation.activeTrees.length === 0 && fabric.aggregation.active.length === 0) {
                for (const n of fabric.topology.switches) if (fabric.aggregation.freeSlots(n) !== fabric.aggregation.poolSize(n)) freeAfter.push(n);
              }
            },
          });
          const s = scenario({
            seed,
            topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 },
            links: { lossRate: 0.02, duplicateRate: 0.05 },
            slots,
            workloads: jobs.map((j) => ({ algorithms: [j.algorithm], bytes: 4 * j.length, dtype: j.dtype, workers: j.workers })),
          });
          const runs = runsOf(await runScenario(s, { hooks }));
          expect(runs).toHaveLength(jobs.length);
          runs.forEach((run, i) => {
            expect(run, JSON.stringify(run)).toMatchObject({ correct: true, wrongElements: 0 });
            if (jobs[i]!.dtype === 'int32') expect(run.maxAbsError).toBe(0);
            if (run.fallback !== null) expect(run.fallback).toMatch(/^ring: no /);
          });
          expect(freeAfter).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.MULTIJOB_RUNS ?? 10) },
    );
  }, 240_000);

  it('a sharp and a flat switchml job side by side on one fabric share the pools', async () => {
    const s = scenario({
      topology: { kind: 'fat-tree', k: 4 },
      links: { rateGbps: 10, reorderRate: 0.05 },
      slots: 512,
      workloads: [
        { algorithms: ['sharp'], bytes: 4 * 5000, dtype: 'int32', workers: 'all' },
        { algorithms: ['switchml'], bytes: 4 * 5000, dtype: 'float32', workers: ['h1', 'h2', 'h9'] },
      ],
    });
    const r = await runScenario(s);
    const [a, b] = runsOf(r);
    expect(a).toMatchObject({ algorithm: 'sharp', correct: true, fallback: null, maxAbsError: 0, placement: { root: 'core0' } });
    expect(b).toMatchObject({ algorithm: 'switchml', correct: true, fallback: null });
    expect(r.switches.every((sw) => sw.program === 'sharp')).toBe(true);
    // per-job timing: each job has its own times
    expect(a!.timesSec).toHaveLength(2);
    expect(b!.timesSec).toHaveLength(2);
  });
});

describe('multiple jobs over udp', () => {
  it('two concurrent tree jobs on a leaf-spine over loopback sockets, int32 exact', async () => {
    const s = scenario({
      mode: 'udp',
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 3 },
      slots: 64,
      workloads: [
        { algorithms: ['sharp'], bytes: 4 * 4000, dtype: 'int32', workers: ['h0', 'h1', 'h3'] },
        { algorithms: ['sharp'], bytes: 4 * 3000, dtype: 'int32', workers: ['h2', 'h4', 'h5', 'h1'] },
      ],
    });
    const runs = runsOf(await runScenario(s));
    for (const run of runs) expect(run, JSON.stringify(run)).toMatchObject({ correct: true, maxAbsError: 0, fallback: null });
  });
});
