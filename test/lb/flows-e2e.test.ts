/**
 * The flows workload end to end, in sim and over real UDP on loopback: the contract's report
 * entry, one entry per compared scheme each on a fresh fabric running that scheme, the same
 * flows for every scheme, the table, and intact delivery under loss.
 */
import { describe, expect, it } from 'vitest';
import { runScenario, variantsOf } from '../../src/run/runner.js';
import { renderReport } from '../../src/report/table.js';
import type { Report } from '../../src/report/types.js';
import { loadScenario } from '../../src/scenario/load.js';
import { planFlows, type FlowsResult } from '../../hosts/flows/flows.js';
import { createRng } from '../../src/net/rng.js';
import { flowsScenario } from './helpers.js';

const SCHEMES = ['ecmp', 'flowlet', 'drill', 'conga'];

function expectFlowsEntry(r: unknown, scheme: string, flows: number): asserts r is FlowsResult {
  expect(r).toMatchObject({
    workload: 'flows',
    loadBalancing: scheme,
    flows,
    completed: flows,
    fctSlowdown: { mean: expect.any(Number), p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) },
    slowdownByBin: {
      '<100KB': { flows: expect.any(Number), p99: expect.any(Number) },
      '100KB-1MB': { flows: expect.any(Number), p99: expect.any(Number) },
      '>1MB': { flows: expect.any(Number), p99: expect.any(Number) },
    },
    reorderedPackets: expect.any(Number),
    uplinkImbalance: expect.any(Number),
    maxQueueBytes: expect.any(Number),
    correct: true,
  });
  const f = r as FlowsResult;
  expect(f.fctSlowdown.p50).toBeGreaterThanOrEqual(1);
  expect(f.fctSlowdown.p99).toBeGreaterThanOrEqual(f.fctSlowdown.p95);
  expect(f.fctSlowdown.p95).toBeGreaterThanOrEqual(f.fctSlowdown.p50);
  expect(Object.values(f.slowdownByBin).reduce((s, b) => s + b.flows, 0)).toBe(flows);
  expect(f.uplinkImbalance === 0 || f.uplinkImbalance >= 1).toBe(true);
}

describe('flows in sim', () => {
  it('one entry per scheme, in order, each correct and in the contract`s shape; a table side by side', async () => {
    const s = flowsScenario({ seed: 3, schemes: SCHEMES, flows: { count: 24 } });
    const r = await runScenario(s);
    expect(r.runs.map((x) => (x as FlowsResult).loadBalancing)).toEqual(SCHEMES);
    r.runs.forEach((x, i) => expectFlowsEntry(x, SCHEMES[i]!, 24));
    // each variant ran on its own fabric: its links carried the traffic, not the scenario's fabric
    for (const x of r.runs as FlowsResult[]) expect(x.linkLoad.some((l) => l.bytes.ab > 0)).toBe(true);
    expect(r.links.every((l) => l.packets.ab + l.packets.ba === 0)).toBe(true);
    const table = renderReport(r);
    for (const scheme of SCHEMES) expect(table).toMatch(new RegExp(`^ +${scheme} +24/24 `, 'm'));
    expect(table).toContain('p99 <100KB');
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  }, 60_000);

  it('a compared scheme gives exactly the run that scheme gives alone (fresh fabric, same flows)', async () => {
    const compared = await runScenario(flowsScenario({ seed: 5, schemes: ['ecmp', 'conga'] }));
    const alone = await runScenario(flowsScenario({ seed: 5, switches: { loadBalancing: 'conga' } }));
    expect(variantsOf({ loadBalancing: ['conga'] }, 'conga')).toBeNull();
    expect(JSON.stringify(alone.runs[0])).toBe(JSON.stringify(compared.runs[1]));
    // the scenario's own fabric ran it, and says so
    expect(alone.switches.every((w) => w.program === 'conga' && w.packetsIn > 0)).toBe(true);
  }, 60_000);

  it('the same seed plans the same flows whatever the scheme', () => {
    const spec = { distribution: 'websearch' as const, sizeBytes: 0, load: 0.6, count: 200, pattern: 'all-to-all' as const, sizeScale: 0.1 };
    const a = planFlows(spec, new Array(8).fill(10), createRng(4).fork('x'));
    const b = planFlows(spec, new Array(8).fill(10), createRng(4).fork('x'));
    expect(b).toEqual(a);
    for (const f of a) {
      expect(f.src).not.toBe(f.dst);
      expect(f.size).toBe(Math.max(1, Math.round(f.drawn * 0.1)));
    }
    // arrivals offer the load: mean inter-arrival = mean size / (load × host capacity)
    const span = a[a.length - 1]!.startNs;
    const offered = (a.reduce((s, f) => s + f.size, 0) / span) * 8; // Gbit/s
    expect(offered / (0.6 * 8 * 10)).toBeGreaterThan(0.6);
    expect(offered / (0.6 * 8 * 10)).toBeLessThan(1.6);
  });

  it('patterns: permutation is a fixed derangement, incast all goes to the first host', () => {
    const base = { distribution: 'fixed' as const, sizeBytes: 1000, load: 0.5, count: 300, sizeScale: 1 };
    const perm = planFlows({ ...base, pattern: 'permutation' }, new Array(6).fill(10), createRng(1));
    const partner = new Map<number, number>();
    for (const f of perm) {
      expect(f.dst).not.toBe(f.src);
      if (partner.has(f.src)) expect(partner.get(f.src)).toBe(f.dst);
      partner.set(f.src, f.dst);
    }
    expect(new Set(partner.values()).size).toBe(partner.size);
    const incast = planFlows({ ...base, pattern: 'incast' }, new Array(6).fill(10), createRng(1));
    expect(incast.every((f) => f.dst === 0 && f.src !== 0)).toBe(true);
  });

  it('5 % loss on every link: every scheme retransmits, every flow still arrives intact', async () => {
    const r = await runScenario(flowsScenario({ seed: 9, schemes: SCHEMES, links: { lossRate: 0.05 }, flows: { count: 20 } }));
    for (const x of r.runs as FlowsResult[]) {
      expect(x.correct, x.loadBalancing).toBe(true);
      expect(x.retransmissions).toBeGreaterThan(0);
      expect(x.corruptFrames).toBe(0);
    }
  }, 60_000);

  it('datamining and fixed sizes; a fat-tree fabric', async () => {
    const r = await runScenario(
      flowsScenario({
        seed: 2,
        topology: { kind: 'fat-tree', k: 4 },
        schemes: SCHEMES,
        flows: { distribution: 'datamining', sizeScale: 0.001, count: 30 },
      }),
    );
    r.runs.forEach((x, i) => expectFlowsEntry(x, SCHEMES[i]!, 30));
    const fixed = await runScenario(flowsScenario({ seed: 2, flows: { distribution: 'fixed', sizeBytes: 3000, count: 10, sizeScale: 1 } }));
    expectFlowsEntry(fixed.runs[0], 'ecmp', 10);
  }, 60_000);

  it('the shipped scenarios load', () => {
    for (const f of ['lb-symmetric', 'lb-asymmetric', 'lb-link-down', 'lb-all-to-all']) {
      const s = loadScenario(`scenarios/${f}.yaml`);
      const flows = s.workloads.filter((w) => w.kind === 'flows');
      expect(flows.length).toBeGreaterThan(0);
      for (const w of flows) expect(w.loadBalancing).toEqual(SCHEMES);
    }
  });
});

describe('flows over real UDP on loopback', () => {
  it('a small comparison completes with intact bytes under every scheme', async () => {
    const s = flowsScenario({
      mode: 'udp',
      seed: 4,
      schemes: SCHEMES,
      links: { rateGbps: 0.5, delayUs: 0 },
      switches: { flowletGapUs: 2000 },
      flows: { distribution: 'fixed', sizeBytes: 30_000, sizeScale: 1, count: 12, load: 0.3 },
    });
    const r = (await runScenario(s)) as Report;
    expect(r.mode).toBe('udp');
    r.runs.forEach((x, i) => expectFlowsEntry(x, SCHEMES[i]!, 12));
  }, 120_000);
});
