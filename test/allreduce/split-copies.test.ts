/**
 * What `ina up` does with one workload, modelled in virtual time: the workers are split among
 * several copies of the algorithm (one per "process"), each starting its workers only, the
 * copies beginning each iteration at different moments (a barrier's release reaches processes
 * at different times), and each copy finishing when its own workers hold their results. Every
 * split, every skew: exact int32 sums, and no copy waits on a frame that was acknowledged but
 * dropped (a stall here is a hang in a multi-process run).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import switchml from '../../pipelines/switchml.js';
import { createRing } from '../../hosts/allreduce/ring-allreduce.js';
import { createSwitchml } from '../../hosts/allreduce/switchml-client.js';
import type { AlgorithmFactory, AllreduceAlgorithm, CollectiveStats } from '../../hosts/allreduce/collective.js';
import { referenceSum, type Tensor } from '../../hosts/allreduce/tensor.js';
import type { SimClock } from '../../src/net/sim-clock.js';
import type { Cluster } from '../../src/run/cluster.js';
import { Deferred } from '../../src/run/deferred.js';
import { SimDriver } from '../../src/run/driver.js';
import { Fabric } from '../../src/run/fabric.js';
import type { WorkloadContext } from '../../src/run/workload.js';
import { buildTopology } from '../../src/topology/from-spec.js';

/** Copies that agree the way the hub makes them agree: the first to ask a step decides it. */
function clusterOf(local: ReadonlySet<string>, isLeader: boolean, decided: Map<string, unknown>): Cluster {
  let step = 0;
  return {
    isLeader,
    distributed: true,
    isLocal: (h) => local.has(h),
    allGather: async () => [],
    atLeader: async (label, fn) => {
      const key = `${step++}:${label}`;
      if (isLeader) decided.set(key, await fn());
      // non-leaders are asked after the leader here (the leader's copy is made first)
      return decided.get(key) as never;
    },
  };
}

async function runSplit(factory: AlgorithmFactory, hosts: number, groups: number[], skewsUs: number[], length: number, iterations: number): Promise<void> {
  const fabric = await Fabric.build({
    topology: buildTopology({ kind: 'star', hosts }),
    mode: 'sim',
    seed: 7,
    links: { rateGbps: 10, delayUs: 2 },
    program: switchml,
    switchOptions: { aggregation: { slots: 64, elementsPerPacket: 64 } },
  });
  try {
    const clock = fabric.clock as SimClock;
    const driver = new SimDriver(clock);
    const names = fabric.topology.hosts;
    const copies = [...new Set(groups)].sort((a, b) => a - b);
    const decided = new Map<string, unknown>();
    const algos: AllreduceAlgorithm[] = [];
    for (const [c, g] of copies.entries()) {
      const local = new Set(names.filter((_, r) => groups[r] === g));
      const ctx: WorkloadContext = {
        mode: 'sim',
        clock,
        rng: fabric.rng.fork('split'),
        topology: fabric.topology,
        driver,
        fabric,
        hosts: names.map((h) => fabric.hosts.get(h)!),
        cluster: clusterOf(local, c === 0, decided),
        tierBytes: async () => fabric.tierBytes(),
        linkReports: async () => fabric.linkReports(),
        progress: () => {},
      };
      algos.push(await factory({ ctx, workers: ctx.hosts, dtype: 'int32', length, aggregation: { slots: 64, elementsPerPacket: 64 }, jobId: 1 }));
    }
    const inputs: Tensor[] = names.map((_, r) => Int32Array.from({ length }, (_, i) => ((i * 7919 + r * 104729) % 20001) - 10000));
    const ref = referenceSum(inputs);
    for (let it = 0; it < iterations; it++) {
      const outputs: Tensor[] = names.map(() => new Int32Array(length));
      const runs: Array<Deferred<CollectiveStats> | null> = algos.map(() => null);
      // each copy begins after its own delay, as the processes of a barrier do
      algos.forEach((a, c) => {
        clock.setTimer((skewsUs[c % skewsUs.length] ?? 0) * 1000, () => {
          runs[c] = a.run({ iteration: it, dtype: 'int32', inputs, outputs });
        });
      });
      // settled inside an event, as the sim driver needs: a 10 us poll of the copies
      const all = new Deferred<void>('all copies');
      const poll = (): void => {
        const failed = runs.find((d) => d?.done && d.error !== undefined);
        if (failed) all.reject(failed.error);
        else if (runs.every((d) => d?.done)) all.resolve();
        else clock.setTimer(10_000, poll);
      };
      clock.setTimer(0, poll);
      await driver.wait(all);
      for (const out of outputs) expect(Array.from(out)).toEqual(Array.from(ref, (v) => v | 0));
    }
    for (const a of algos) await a.teardown();
  } finally {
    await fabric.close();
  }
}

describe('an all-reduce split among copies that start at different times', () => {
  for (const [name, factory] of [
    ['ring', createRing],
    ['switchml', createSwitchml],
  ] as const) {
    it(`${name}: any split of 2..6 workers, any start skews up to 3 ms, odd lengths: exact sums every iteration`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 2, max: 6 }).chain((n) =>
            fc.record({
              n: fc.constant(n),
              groups: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
              skews: fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 3, maxLength: 3 }),
              length: fc.integer({ min: 1, max: 3000 }),
            }),
          ),
          async ({ n, groups, skews, length }) => runSplit(factory, n, groups, skews, length, 2),
        ),
        { numRuns: 12, seed: 11 },
      );
    }, 60_000);
  }
});
