/**
 * Fidelity against the literature, in sim, with fixed seeds (deterministic, so not flaky; the
 * README's table gives the same numbers and how they vary over seeds):
 * - ECMP's uplink imbalance for F equal long flows on P paths matches balls-into-bins;
 * - on the symmetric fabric at load 0.6, DRILL's and flowlet's p99 slowdown are below ECMP's
 *   (DRILL, SIGCOMM'17; LetFlow, NSDI'17);
 * - on the asymmetric fabrics, CONGA's and flowlet's are below ECMP's (CONGA, SIGCOMM'14;
 *   LetFlow).
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/runner.js';
import { loadScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import type { FlowsResult } from '../../hosts/flows/flows.js';
import { ballsIntoBinsImbalance } from '../../hosts/flows/flow-metrics.js';
import { flowsScenario } from './helpers.js';

/** the scenario file with only the named workload, compared over only the given schemes */
function only(file: string, workload: string, schemes: string[]): Scenario {
  const s = loadScenario(file);
  const w = s.workloads.find((x) => x.name === workload);
  if (!w) throw new Error(`${file} has no workload ${workload}`);
  return { ...s, workloads: [{ ...w, loadBalancing: schemes } as Scenario['workloads'][number]] };
}

async function p99s(s: Scenario): Promise<Record<string, number>> {
  const r = await runScenario(s);
  const out: Record<string, number> = {};
  for (const x of r.runs as FlowsResult[]) {
    expect(x.correct, `${x.loadBalancing}: ${String(x.error ?? '')}`).toBe(true);
    out[x.loadBalancing] = x.fctSlowdown.p99;
  }
  return out;
}

describe('fidelity (sim)', () => {
  it('ECMP: F equal long flows on P paths spread as balls into bins (mean of 100 seeds within 5 %)', async () => {
    for (const [F, P] of [[8, 4], [12, 3]] as const) {
      let sum = 0;
      const seeds = 100;
      for (let seed = 1; seed <= seeds; seed++) {
        // every flow from h1 (leaf1) to h0 (leaf0): leaf1 spreads F flows over its P uplinks
        const s = flowsScenario({
          seed,
          topology: { kind: 'leaf-spine', leaves: 2, spines: P, hostsPerLeaf: 1 },
          flows: { distribution: 'fixed', sizeBytes: 14_000, sizeScale: 1, count: F, pattern: 'incast', load: 0.5 },
        });
        const run = (await runScenario(s)).runs[0] as FlowsResult;
        expect(run.correct).toBe(true);
        sum += run.uplinks.leaf1!.imbalance;
      }
      const measured = sum / seeds;
      const expected = ballsIntoBinsImbalance(F, P);
      expect(Math.abs(measured / expected - 1), `F=${F} P=${P}: ${measured} vs ${expected}`).toBeLessThan(0.05);
    }
  }, 120_000);

  it('symmetric leaf-spine, load 0.6: DRILL and flowlet below ECMP at p99', async () => {
    const p = await p99s(only('scenarios/lb-symmetric.yaml', 'websearch-0.6', ['ecmp', 'flowlet', 'drill']));
    expect(p.drill).toBeLessThan(p.ecmp!);
    expect(p.flowlet).toBeLessThan(p.ecmp!);
  }, 120_000);

  it('a leaf-spine link at a quarter of the rate: CONGA and flowlet below ECMP at p99', async () => {
    const p = await p99s(only('scenarios/lb-asymmetric.yaml', 'websearch-slow-link', ['ecmp', 'flowlet', 'conga']));
    expect(p.conga).toBeLessThan(p.ecmp!);
    expect(p.flowlet).toBeLessThan(p.ecmp!);
  }, 120_000);

  it('a leaf-spine link down: CONGA and flowlet below ECMP at p99', async () => {
    const p = await p99s(only('scenarios/lb-link-down.yaml', 'websearch-link-down', ['ecmp', 'flowlet', 'conga']));
    expect(p.conga).toBeLessThan(p.ecmp!);
    expect(p.flowlet).toBeLessThan(p.ecmp!);
  }, 120_000);
});
