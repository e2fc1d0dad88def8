/**
 * `down: true` in links.overrides: a cut link is wired but carries nothing, and the routing
 * controller computes paths as if it were absent.
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/runner.js';
import { ScenarioError } from '../../src/scenario/load.js';
import type { FlowsResult } from '../../hosts/flows/flows.js';
import { flowsScenario, scenario } from './helpers.js';

const LS = { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 };

function problem(value: Record<string, unknown>): string {
  try {
    scenario(value);
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('links.overrides[].down', () => {
  it('is a boolean, allowed alone, and only between two switches', () => {
    expect(scenario({ name: 'd', topology: LS, links: { overrides: [{ between: ['leaf0', 'spine1'], down: true }] } }).links.overrides[0]).toEqual({ between: ['leaf0', 'spine1'], down: true });
    expect(problem({ name: 'd', topology: LS, links: { overrides: [{ between: ['leaf0', 'spine1'], down: 'yes' }] } })).toMatch(/links\.overrides\[0\]\.down: expected true or false/);
    expect(problem({ name: 'd', topology: LS, links: { overrides: [{ between: ['h0', 'leaf0'], down: true }] } })).toMatch(/links\.overrides\[0\]\.down: expected down only on a link between two switches/);
  });

  for (const mode of ['sim', 'udp'] as const) {
    it(`pingall routes around a cut leaf-spine link (${mode})`, async () => {
      const r = await runScenario(
        scenario({
          name: 'down',
          mode,
          topology: { kind: 'leaf-spine', leaves: 3, spines: 2, hostsPerLeaf: 2 },
          links: { overrides: [{ between: ['leaf0', 'spine0'], down: true }] },
          workloads: [{ kind: 'pingall', count: 2 }],
        }),
      );
      expect(r.runs[0]).toMatchObject({ correct: true, mismatched: 0 });
      const run = r.runs[0] as { sent: number; received: number };
      expect(run.received).toBe(run.sent);
      const cut = r.links.find((l) => l.a === 'leaf0' && l.b === 'spine0')!;
      expect(cut.packets).toEqual({ ab: 0, ba: 0 });
      expect(cut.drops).toEqual({ ab: 0, ba: 0 });
      // spine0 still serves the other leaves
      expect(r.links.find((l) => l.a === 'leaf1' && l.b === 'spine0')!.packets.ab).toBeGreaterThan(0);
      for (const w of r.switches) expect(w.drops.table, w.name).toBe(0);
    });
  }

  it('pingall on a fat-tree with an edge-agg link cut', async () => {
    const r = await runScenario(
      scenario({ name: 'ft', mode: 'sim', topology: { kind: 'fat-tree', k: 4 }, links: { overrides: [{ between: ['edge0_0', 'agg0_0'], down: true }] }, workloads: [{ kind: 'pingall', count: 1 }] }),
    );
    expect(r.runs[0]).toMatchObject({ correct: true });
    expect(r.links.find((l) => l.a === 'edge0_0' && l.b === 'agg0_0')!.packets).toEqual({ ab: 0, ba: 0 });
  });

  it('flows: the cut link has no load and is no uplink; every scheme stays on the paths that are up', async () => {
    const r = await runScenario(
      flowsScenario({
        seed: 3,
        topology: { kind: 'leaf-spine', leaves: 2, spines: 3, hostsPerLeaf: 2 },
        links: { overrides: [{ between: ['leaf0', 'spine1'], down: true }] },
        schemes: ['ecmp', 'flowlet', 'drill', 'conga'],
        flows: { count: 20 },
      }),
    );
    for (const x of r.runs as FlowsResult[]) {
      expect(x.correct, x.loadBalancing).toBe(true);
      const cut = x.linkLoad.find((l) => l.a === 'leaf0' && l.b === 'spine1')!;
      expect(cut).toMatchObject({ down: true, bytes: { ab: 0, ba: 0 }, utilization: { ab: null, ba: null } });
      // spine1 cannot reach leaf0, so leaf1 never sends through it to leaf0's hosts either
      expect(x.uplinks.leaf0!.bytes).toHaveLength(2);
      expect(x.uplinks.leaf1!.bytes).toHaveLength(3);
      expect(x.uplinks.leaf1!.bytes[1]).toBe(0);
    }
  }, 60_000);
});
