/**
 * The moe workload as `ina up` runs it: one copy per process, each with endpoints for its own
 * ranks only, meeting at collective steps. Modelled in virtual time (copies in one process
 * sharing a fabric, a hub doing the collectives, each copy released from a step after its own
 * delay), then for real: `ina up --mode process` against `ina run`.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { runMoe, type MoeResult, type MoeRun, type MoeSpec } from '../../hosts/moe/moe.js';
import type { SimClock } from '../../src/net/sim-clock.js';
import type { Cluster } from '../../src/run/cluster.js';
import { Deferred } from '../../src/run/deferred.js';
import { SimDriver } from '../../src/run/driver.js';
import { Fabric } from '../../src/run/fabric.js';
import { loadProgram } from '../../src/run/registry.js';
import { programFor, selectHosts } from '../../src/run/runner.js';
import type { WorkloadContext } from '../../src/run/workload.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import { frameSlice, MOE_ACK_BYTES, moeDataFrameBytes, streamGeometry } from '../../src/wire/moe.js';
import { ina, scratch, STACK_FRAME } from '../cli/helpers.js';
import { expectCorrect, moeScenario, runMoeCase } from './helpers.js';

/** Bytes of the DATA frames of a stream of `rows` rows (each sent once). */
function streamBytes(rows: number, hidden: number): number {
  const g = streamGeometry(rows, hidden);
  let bytes = 0;
  for (let seq = 0; seq < g.frames; seq++) {
    const sl = frameSlice(g, seq);
    bytes += moeDataFrameBytes(sl.rows, sl.elemCount);
  }
  return bytes;
}

function streamFrames(rows: number, hidden: number): number {
  return streamGeometry(rows, hidden).frames;
}

/** What the plan decides: the same in every copy and in one process. */
const PLAN_FIELDS = [
  'ranks', 'experts', 'topK', 'tokensPerRank', 'hidden', 'capacity', 'capacityFactor', 'dropless', 'dropPolicy', 'skew',
  'expertsPerRank', 'expertLoad', 'expertDemand', 'rankLoad', 'droppedTokens', 'tokensWithoutExpert', 'overloadFactor',
  'auxLoss', 'zLoss', 'tokenMatrix', 'expectedPieces',
] as const;


/**
 * Collectives among `copies` copies in one process, the way the coordinator's hub does them:
 * a step completes when every copy has reached it; copy c then resumes after delaysUs[c] of
 * virtual time (a release reaches processes at different moments). Copy 0 is the leader.
 */
function hub(copies: number, locals: ReadonlyArray<ReadonlySet<string>>, clock: SimClock, driver: SimDriver, delaysUs: readonly number[]): Cluster[] {
  const steps: Array<{ values: unknown[]; arrived: number; done: Deferred<unknown[]> }> = [];
  const step = (n: number): (typeof steps)[number] =>
    (steps[n] ??= { values: new Array<unknown>(copies).fill(null), arrived: 0, done: new Deferred<unknown[]>(`step ${n}`) });
  return locals.map((local, c) => {
    let next = 0;
    const gather = async <T>(value: T | null): Promise<T[]> => {
      const s = step(next++);
      s.values[c] = value;
      if (++s.arrived === copies) s.done.resolve(s.values.filter((v) => v !== null));
      const all = (await s.done.promise) as T[];
      const delay = delaysUs[c % delaysUs.length] ?? 0;
      if (delay > 0) {
        const d = new Deferred<void>(`copy ${c} released`);
        clock.setTimer(delay * 1000, () => d.resolve());
        await driver.wait(d);
      }
      return all;
    };
    return {
      isLeader: c === 0,
      distributed: true,
      isLocal: (h: string) => local.has(h),
      allGather: <T>(_label: string, value: T | null) => gather(value),
      atLeader: async <T>(_label: string, fn: () => T | Promise<T>) => {
        const mine = c === 0 ? await fn() : null;
        return (await gather(mine))[0] as T;
      },
    };
  });
}

/** Runs the scenario's one moe workload split among copies: copy 0 has no rank (the coordinator), rank r lives in copy groups[r]. */
async function runSplit(s: Scenario, groups: readonly number[], delaysUs: readonly number[]): Promise<MoeRun[]> {
  const topology = buildTopology(s.topology);
  const fabric = await Fabric.build({ topology, mode: 'sim', seed: s.seed, links: s.links, program: await loadProgram(programFor(s)), switchOptions: s.switches });
  const w = s.workloads[0]! as unknown as Partial<MoeSpec> & { ranks?: unknown };
  try {
    const clock = fabric.clock as SimClock;
    const driver = new SimDriver(clock);
    const hosts = selectHosts(topology, fabric.hosts, w.ranks);
    const copies = 1 + Math.max(0, ...groups);
    const locals = Array.from({ length: copies }, (_, c) => new Set(hosts.filter((_, r) => groups[r] === c).map((h) => h.name)));
    const clusters = hub(copies, locals, clock, driver, delaysUs);
    return await Promise.all(
      clusters.map((cluster) => {
        const ctx: WorkloadContext = {
          mode: 'sim',
          clock,
          cluster,
          tierBytes: async () => fabric.tierBytes(),
          linkReports: async () => fabric.linkReports(),
          rng: fabric.rng.fork('workload:0'),
          topology,
          driver,
          fabric,
          hosts,
          loadBalancing: s.switches.loadBalancing,
          progress: () => {},
        };
        return runMoe(ctx, w);
      }),
    );
  } finally {
    await fabric.close();
  }
}

describe('moe split among copies (ina up, modelled in virtual time)', () => {
  it('any split of the ranks, any release delays, lossy links: every copy reports the one-process plan, every output exact', async () => {
    const seen = { retransmissions: 0, multiCopy: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 6 }).chain((ranks) =>
          fc.record({
            ranks: fc.constant(ranks),
            groups: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: ranks, maxLength: ranks }),
            delaysUs: fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 4, maxLength: 4 }),
            experts: fc.integer({ min: 1, max: 8 }),
            k: fc.integer({ min: 1, max: 3 }),
            tokens: fc.integer({ min: 1, max: 40 }),
            hidden: fc.constantFrom(1, 16, 300),
            capacityFactor: fc.option(fc.integer({ min: 25, max: 200 }).map((c) => c / 100), { nil: null }),
            skew: fc.integer({ min: 0, max: 15 }).map((v) => v / 10),
            lossPct: fc.integer({ min: 0, max: 3 }),
            seed: fc.integer({ min: 0, max: 1e6 }),
          }),
        ),
        async (c) => {
          const s = moeScenario({
            seed: c.seed,
            topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 3 },
            links: { lossRate: c.lossPct / 100, rateGbps: 10, delayUs: 1 },
            moe: {
              ranks: c.ranks, tokensPerRank: c.tokens, hidden: c.hidden, experts: c.experts, topK: Math.min(c.k, c.experts),
              capacityFactor: c.capacityFactor, skew: c.skew,
            },
          });
          const one = await runMoeCase(s);
          const split = await runSplit(s, c.groups, c.delaysUs);
          const lead = split[0]!.result;
          expectCorrect(lead, 'split');
          for (const k of PLAN_FIELDS) expect(lead[k], k).toEqual(one.result[k]);
          // every copy merges the same tallies into the same result (link counters aside: each
          // copy reads them when its own release comes)
          const noLinks = (r: MoeResult): object => ({ ...r, linkBytes: 0, tierBytes: 0, fabricLinkImbalance: 0, queueDrops: 0, lostFrames: 0 });
          for (const r of split) expect(noLinks(r.result)).toEqual(noLinks(lead));
          // each rank's outputs, in the copy that holds it, are the one-process outputs bit for bit
          c.groups.forEach((g, r) => expect(Buffer.from(split[g]!.outputs[r]!.buffer).equals(Buffer.from(one.outputs[r]!.buffer)), `rank ${r}`).toBe(true));
          expect(lead.trafficMatrixBytes.length).toBe(c.ranks);
          for (let r = 0; r < c.ranks; r++) expect(lead.trafficMatrixBytes[r]![r]).toBe(0);
          if (c.lossPct === 0) expect(lead.retransmissions).toBe(0);
          seen.retransmissions += lead.retransmissions;
          if (new Set(c.groups).size > 1) seen.multiCopy++;
        },
      ),
      { numRuns: 25, seed: 5 },
    );
    expect(seen.retransmissions).toBeGreaterThan(0);
    expect(seen.multiCopy).toBeGreaterThan(0);
  }, 120_000);

  it('without loss or delays: the traffic matrix of a split run is the one-process one', async () => {
    const s = moeScenario({
      seed: 3,
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
      links: { rateGbps: 10, delayUs: 1 },
      moe: { ranks: 'all', tokensPerRank: 64, hidden: 32, experts: 8, topK: 2, skew: 1, capacityFactor: 1.25 },
    });
    const one = (await runMoeCase(s)).result;
    const split = (await runSplit(s, [1, 2, 3, 4], [0]))[0]!.result;
    expectCorrect(split, 'split');
    expect(one.retransmissions).toBe(0);
    expect(split.retransmissions).toBe(0);
    expect(split.trafficMatrixBytes).toEqual(one.trafficMatrixBytes);
  }, 30_000);
});

const files = scratch('moe-up');
afterAll(() => files.cleanup());

describe('ina up --mode process: moe', () => {
  it('every rank its own process: correct, with the plan and token matrix of ina run and its traffic matrix up to ACKs', async () => {
    const f = files.write(
      'moe.yaml',
      `name: moe-up
mode: udp
seed: 5
topology: { kind: leaf-spine, leaves: 2, spines: 2, hostsPerLeaf: 2 }
workloads:
  - kind: moe
    tokensPerRank: 64
    hidden: 32
    experts: 8
    topK: 2
    skew: 1.0
    capacityFactor: 1.25
    ranks: all
`,
    );
    const upJson = `${files.dir}/up.json`;
    const oneJson = `${files.dir}/one.json`;
    const up = await ina(['up', f, '--mode', 'process', '--json', upJson], { timeoutMs: 90_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).not.toMatch(STACK_FRAME);
    const one = await ina(['run', f, '--json', oneJson], { timeoutMs: 90_000 });
    expect(one.code, one.stderr).toBe(0);
    const u = JSON.parse(readFileSync(upJson, 'utf8')) as { runs: MoeResult[]; deployment?: { kind: string } };
    const o = JSON.parse(readFileSync(oneJson, 'utf8')) as { runs: MoeResult[] };
    expect(u.deployment?.kind).toBe('process');
    expect(u.runs.length).toBe(1);
    const [ur, or] = [u.runs[0]!, o.runs[0]!];
    expect((ur as unknown as { error?: string }).error).toBeUndefined();
    expectCorrect(ur, 'ina up');
    expectCorrect(or, 'ina run');
    for (const k of PLAN_FIELDS) expect(ur[k], k).toEqual(or[k]);
    expect(ur.droppedTokens).toBeGreaterThan(0);
    expect(ur.dispatchSec).toBeGreaterThan(0);
    expect(ur.combineSec).toBeGreaterThan(0);
    expect(Object.keys(ur.tierBytes).sort()).toEqual(Object.keys(or.tierBytes).sort());
    expect(ur.linkBytes.map((l) => [l.a, l.b])).toEqual(or.linkBytes.map((l) => [l.a, l.b]));
    // ACKs are coalesced by timing, so the traffic matrices agree up to ACKs: each entry is the
    // DATA frames of both phases, which the plan fixes, plus whole ACKs (at least one per stream)
    for (const r of [ur, or]) {
      for (let i = 0; i < r.ranks; i++) {
        for (let j = 0; j < r.ranks; j++) {
          const bytes = r.trafficMatrixBytes[i]![j]!;
          if (i === j) {
            expect(bytes).toBe(0);
            continue;
          }
          const data = streamBytes(r.tokenMatrix[i]![j]!, r.hidden) + streamBytes(r.tokenMatrix[j]![i]!, r.hidden);
          const acks = (bytes - data) / MOE_ACK_BYTES;
          expect(Number.isInteger(acks) && acks >= 2 && acks <= streamFrames(r.tokenMatrix[j]![i]!, r.hidden) + streamFrames(r.tokenMatrix[i]![j]!, r.hidden) + r.duplicates, `${i}->${j}: ${bytes} bytes, ${data} of DATA`).toBe(true);
        }
      }
    }
    // the switches carried the exchange: the leader reads every link's counters
    expect(ur.tierBytes['leaf-spine']).toBeGreaterThan(0);
  }, 180_000);
});
