/**
 * The `moe` workload end to end: dispatch and combine all-to-all through emulated switches, in
 * virtual time (fast-check properties over shapes, capacity, skew and impaired links) and over
 * real UDP on loopback; determinism; the scenario files; the report table.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runScenario } from '../../src/run/runner.js';
import { loadScenario } from '../../src/scenario/load.js';
import { renderReport } from '../../src/report/table.js';
import type { Report } from '../../src/report/types.js';
import type { MoeResult } from '../../hosts/moe/moe.js';
import { MOE_ACK_BYTES } from '../../src/wire/moe.js';
import { bruteCapacity, bruteDropped, expectCorrect, moeScenario, runMoeCase, wrongTokens } from './helpers.js';

const T = 120_000;


describe('moe in virtual time: properties', () => {
  it('for any shape, capacity, skew and link loss up to 5 %: every output equals the reference, drops as Megatron counts them, nothing applied twice', async () => {
    // what the generated cases exercised (so a vacuous pass shows)
    const seen = { retransmissions: 0, duplicates: 0, dropped: 0, lost: 0, splitRows: 0, multiRank: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          ranks: fc.integer({ min: 1, max: 6 }),
          topology: fc.constantFrom('star', 'leaf-spine'),
          experts: fc.integer({ min: 1, max: 10 }),
          k: fc.integer({ min: 1, max: 4 }),
          tokens: fc.integer({ min: 1, max: 40 }),
          hidden: fc.constantFrom(1, 3, 16, 100, 1030),
          capacityFactor: fc.option(fc.integer({ min: 10, max: 200 }).map((c) => c / 100), { nil: null }),
          dropPolicy: fc.constantFrom('probs' as const, 'position' as const),
          skew: fc.integer({ min: 0, max: 20 }).map((s) => s / 10),
          lossPct: fc.integer({ min: 0, max: 5 }),
          dupPct: fc.integer({ min: 0, max: 5 }),
          reorderPct: fc.integer({ min: 0, max: 5 }),
          rateGbps: fc.constantFrom(0, 10),
          lb: fc.constantFrom('ecmp', 'flowlet', 'drill'),
          seed: fc.integer({ min: 0, max: 1e6 }),
        }),
        async (c) => {
          const topK = Math.min(c.k, c.experts);
          const s = moeScenario({
            seed: c.seed,
            topology: c.topology === 'star' ? { kind: 'star', hosts: c.ranks } : { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 3 },
            links: { lossRate: c.lossPct / 100, duplicateRate: c.dupPct / 100, reorderRate: c.reorderPct / 100, rateGbps: c.rateGbps, delayUs: 1 },
            loadBalancing: c.lb,
            moe: {
              ranks: c.ranks, tokensPerRank: c.tokens, hidden: c.hidden, experts: c.experts, topK,
              capacityFactor: c.capacityFactor, dropPolicy: c.dropPolicy, skew: c.skew,
            },
          });
          const { result, plan, outputs } = await runMoeCase(s);
          const what = JSON.stringify(c);
          expectCorrect(result, what);
          // every token of every rank, bit for bit, against an independent brute-force reference
          for (let i = 0; i < c.ranks; i++) expect(wrongTokens(plan, outputs, i), `${what}: rank ${i}`).toBe(0);
          expect(result.droppedTokens, what).toBe(bruteDropped(plan));
          expect(result.capacity).toBe(bruteCapacity(plan.spec) ?? 0);
          expect(result.expertLoad.reduce((a, b) => a + b, 0)).toBe(c.ranks * c.tokens * topK - result.droppedTokens);
          if (c.capacityFactor === null) expect(result.droppedTokens).toBe(0);
          expect(result.ranks).toBe(c.ranks);
          expect(result.trafficMatrixBytes).toHaveLength(c.ranks);
          for (let i = 0; i < c.ranks; i++) expect(result.trafficMatrixBytes[i]![i]).toBe(0);
          seen.retransmissions += result.retransmissions;
          seen.duplicates += result.duplicates;
          seen.dropped += result.droppedTokens;
          seen.lost += result.lostFrames;
          if (c.hidden > 1024 && c.ranks > 1) seen.splitRows++;
          if (c.ranks > 1) seen.multiRank++;
        },
      ),
      { numRuns: 60, seed: 20251123, endOnFailure: true },
    );
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(0);
  }, 300_000);

  it('duplicating links: duplicates are seen, counted and never applied twice', async () => {
    const s = moeScenario({
      seed: 3,
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
      links: { duplicateRate: 0.05, lossRate: 0.05, reorderRate: 0.05, rateGbps: 10 },
      moe: { tokensPerRank: 64, hidden: 32, experts: 8, topK: 2, capacityFactor: 1.0 },
    });
    const { result, plan, outputs } = await runMoeCase(s);
    expectCorrect(result, 'dup');
    expect(result.duplicates).toBeGreaterThan(0);
    expect(result.retransmissions).toBeGreaterThan(0);
    expect(result.lostFrames).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) expect(wrongTokens(plan, outputs, i)).toBe(0);
  }, T);

  it('uneven placement (E not a multiple of ranks, and fewer experts than ranks) and rows wider than a frame', async () => {
    for (const [experts, ranks] of [[5, 3], [2, 4], [1, 3]] as const) {
      const s = moeScenario({ topology: { kind: 'star', hosts: ranks }, links: { rateGbps: 10 }, moe: { tokensPerRank: 20, hidden: 2100, experts, topK: 1, skew: 0.5 } });
      const { result, plan, outputs } = await runMoeCase(s);
      expectCorrect(result, `E=${experts} R=${ranks}`);
      expect(result.expertsPerRank.reduce((a, b) => a + b, 0)).toBe(experts);
      expect(Math.max(...result.expertsPerRank) - Math.min(...result.expertsPerRank)).toBeLessThanOrEqual(1);
      for (let i = 0; i < ranks; i++) expect(wrongTokens(plan, outputs, i)).toBe(0);
    }
  }, T);

  it('a capacity that drops: residual rule, counts, and the traffic it saves', async () => {
    const base = { topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 }, links: { rateGbps: 10 } };
    const spec = { tokensPerRank: 128, hidden: 64, experts: 8, topK: 2, skew: 1.5 };
    const dropless = (await runMoeCase(moeScenario({ ...base, moe: spec }))).result;
    const capped = await runMoeCase(moeScenario({ ...base, moe: { ...spec, capacityFactor: 0.5, dropPolicy: 'position' } }));
    expectCorrect(dropless, 'dropless');
    expectCorrect(capped.result, 'capped');
    expect(capped.result.capacity).toBe(Math.ceil(((128 * 2) / 8) * 0.5));
    expect(capped.result.droppedTokens).toBe(bruteDropped(capped.plan));
    expect(capped.result.droppedTokens).toBeGreaterThan(0);
    // same routing (same seed), so the same aux loss; fewer rows cross the fabric
    expect(capped.result.auxLoss).toBe(dropless.auxLoss);
    expect(capped.result.expertDemand).toEqual(dropless.expertDemand);
    const rows = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);
    expect(rows(capped.result.tokenMatrix)).toBe(rows(dropless.tokenMatrix) - capped.result.droppedTokens);
    expect(capped.result.overloadFactor).toBeLessThan(dropless.overloadFactor);
    expect(capped.result.tokensWithoutExpert).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) expect(wrongTokens(capped.plan, capped.outputs, i)).toBe(0);
  }, T);

  it('the traffic matrix is what each host put on its link and what reached each (lossless)', async () => {
    const s = moeScenario({ topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 }, links: { rateGbps: 10 }, moe: { tokensPerRank: 100, hidden: 48, experts: 4, topK: 2 } });
    const { result } = await runMoeCase(s);
    expectCorrect(result, 'matrix');
    for (let i = 0; i < 4; i++) {
      const host = `h${i}`;
      const l = result.linkBytes.find((x) => x.a === host || x.b === host)!;
      const up = l.a === host ? l.ab : l.ba;
      const down = l.a === host ? l.ba : l.ab;
      // all of it, but for the last ACKs still on their way when the run ended (the run ends
      // when the last data arrived; the link counts a frame once its last bit has left)
      const acksInFlight = (sent: number, counted: number): number => {
        expect((sent - counted) % MOE_ACK_BYTES, `${host}: ${sent} vs ${counted}`).toBe(0);
        return (sent - counted) / MOE_ACK_BYTES;
      };
      const out = acksInFlight(result.trafficMatrixBytes[i]!.reduce((a, b) => a + b, 0), up);
      const into = acksInFlight(result.trafficMatrixBytes.reduce((a, row) => a + row[i]!, 0), down);
      for (const n of [out, into]) {
        expect(n).toBeGreaterThanOrEqual(0);
        expect(n).toBeLessThanOrEqual(3);
      }
    }
    expect(result.queueDrops).toBe(0);
    expect(result.retransmissions).toBe(0);
    expect(result.tierBytes['host-leaf']).toBe(result.linkBytes.filter((l) => /^h\d+$/.test(l.a) || /^h\d+$/.test(l.b)).reduce((a, l) => a + l.ab + l.ba, 0));
  }, T);

  it('a rank cut off fails the run with a clear error within bounded virtual time, never a hang', async () => {
    const s = moeScenario({
      topology: { kind: 'star', hosts: 3 },
      links: { overrides: [{ between: ['h2', 's0'], lossRate: 1 }] },
      moe: { tokensPerRank: 16, hidden: 8, experts: 3, topK: 1 },
    });
    const r = await runScenario(s);
    expect(r.runs).toHaveLength(1);
    expect(r.runs[0]).toMatchObject({ workload: 'moe', correct: false });
    expect(String((r.runs[0] as { error?: string }).error)).toMatch(/moe dispatch: peer h2 \(rank 2\) unresponsive/);
  }, T);
});

describe('moe through the runner', () => {
  it('one result per load-balancing scheme, the same routing on each, the contract fields', async () => {
    const s = moeScenario({
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
      links: { rateGbps: 10, delayUs: 1 },
      moe: { tokensPerRank: 64, hidden: 64, experts: 8, topK: 2, capacityFactor: 1.25, skew: 1, loadBalancing: ['ecmp', 'flowlet', 'drill'] },
    });
    const report = await runScenario(s);
    expect(report.runs.map((r) => (r as MoeResult).loadBalancing)).toEqual(['ecmp', 'flowlet', 'drill']);
    for (const run of report.runs) {
      const r = run as MoeResult;
      expect(r).toMatchObject({ workload: 'moe', ranks: 4, experts: 8, topK: 2, tokensPerRank: 64, hidden: 64, capacity: 20 });
      for (const key of ['capacity', 'droppedTokens', 'overloadFactor', 'auxLoss', 'zLoss', 'timeSec', 'dispatchSec', 'combineSec']) {
        expect(typeof (r as unknown as Record<string, unknown>)[key], key).toBe('number');
      }
      expect(r.expertLoad).toHaveLength(8);
      expect(r.trafficMatrixBytes).toHaveLength(4);
      expect(r.trafficMatrixBytes.every((row) => row.length === 4)).toBe(true);
      expect(r.timeSec).toBeCloseTo(r.dispatchSec + r.combineSec, 8);
      expect(r.dispatchSec).toBeGreaterThan(0);
      expectCorrect(r, r.loadBalancing);
      const first = report.runs[0] as MoeResult;
      expect(r.expertLoad).toEqual(first.expertLoad);
      expect(r.tokenMatrix).toEqual(first.tokenMatrix);
      expect(r.auxLoss).toBe(first.auxLoss);
    }
    const table = renderReport(report);
    expect(table).toMatch(/moe: 4 ranks, 8 experts, top-2, 64 tokens\/rank x 64, capacity 20 per \(expert, source rank\)/);
    for (const lb of ['ecmp', 'flowlet', 'drill']) expect(table).toMatch(new RegExp(`^ +${lb} .* OK$`, 'm'));
  }, T);

  it('determinism: same scenario and seed twice, byte-identical report (lossy links included)', async () => {
    const s = moeScenario({
      seed: 42,
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
      links: { rateGbps: 10, lossRate: 0.03, jitterUs: 2, reorderRate: 0.02 },
      moe: { tokensPerRank: 48, hidden: 40, experts: 6, topK: 2, capacityFactor: 1, skew: 1.2, loadBalancing: ['ecmp', 'drill'] },
    });
    const a = JSON.stringify(await runScenario(s));
    const b = JSON.stringify(await runScenario(s));
    expect(b).toBe(a);
    const r = JSON.parse(a) as Report;
    expect(r.runs.every((x) => x.correct)).toBe(true);
    expect(r.runs.some((x) => (x as MoeResult).lostFrames > 0)).toBe(true);
    const other = await runScenario(s, { seed: 43 });
    expect(JSON.stringify({ ...other, seed: 42 })).not.toBe(a);
  }, T);

  it('over real UDP on loopback: every token correct', async () => {
    const s = moeScenario({
      mode: 'udp',
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
      moe: { tokensPerRank: 48, hidden: 64, experts: 6, topK: 2, capacityFactor: 1.0, skew: 1, dropPolicy: 'position' },
    });
    const { result, plan, outputs } = await runMoeCase(s);
    expectCorrect(result, 'udp');
    expect(result.timeSec).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) expect(wrongTokens(plan, outputs, i)).toBe(0);
    expect(result.droppedTokens).toBe(bruteDropped(plan));
  }, T);
});

describe('moe scenario files', () => {
  it('moe-uniform and moe-skewed: leaf-spine 2x2 (4 hosts/leaf), sim, ecmp/flowlet/drill', () => {
    for (const f of ['scenarios/moe-uniform.yaml', 'scenarios/moe-skewed.yaml']) {
      const s = loadScenario(f);
      expect(s.mode).toBe('sim');
      expect(s.topology).toEqual({ kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 });
      expect(s.links.rateGbps).toBeGreaterThan(0);
      const moes = s.workloads.filter((w) => w.kind === 'moe');
      expect(moes.length).toBeGreaterThan(0);
      for (const w of moes) expect(w.loadBalancing).toEqual(['ecmp', 'flowlet', 'drill']);
      expect(new Set(moes.map((w) => (w as { skew: number }).skew)).size).toBe(1);
    }
    expect((loadScenario('scenarios/moe-uniform.yaml').workloads[0] as { skew: number }).skew).toBe(0);
    expect((loadScenario('scenarios/moe-skewed.yaml').workloads[0] as { skew: number }).skew).toBeGreaterThan(0);
  });

  it('moe-skewed runs correct under every scheme, and its table shows them side by side', async () => {
    const report = await runScenario(loadScenario('scenarios/moe-skewed.yaml'));
    expect(report.runs).toHaveLength(6);
    for (const r of report.runs) expectCorrect(r as MoeResult, (r as MoeResult).loadBalancing);
    const table = renderReport(report);
    expect(table.match(/^ +(ecmp|flowlet|drill) .* OK$/gm)).toHaveLength(6);
    // the skew shows: the most loaded rank well above the mean, an aux loss well above 1
    const r0 = report.runs[0] as MoeResult;
    expect(r0.overloadFactor).toBeGreaterThan(1.5);
    expect(r0.auxLoss).toBeGreaterThan(1.2);
  }, 300_000);
});
