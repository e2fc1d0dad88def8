/**
 * Large fabrics (issue 12.5): the routing geometry of a fat-tree k = 24 (3,456 hosts) fits in
 * a 160 MB heap (a distance map per host came to several GB at k = 32), and a fabric too
 * large for the heap is refused at load with its estimate, not run into an out-of-memory crash.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { estimateFabricMemory } from '../../src/topology/fabric-memory.js';
import { fatTreeTopology } from '../../src/topology/fat-tree.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('fabric memory', () => {
  it('routes every switch of a fat-tree k = 24 within a 160 MB heap', () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, ['--max-old-space-size=160', '--import', 'tsx', 'test/topology/fixtures/route-fat-tree.ts', '24'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/heap out of memory/);
    expect(r.status, r.stderr).toBe(0);
    // every switch: a route per edge switch's /24 (an edge: its own hosts as /32s instead) and per other switch's loopback
    const k = 24;
    const switches = (5 * k * k) / 4;
    const edges = (k * k) / 2;
    const hostsPerEdge = k / 2;
    const expected = switches * (edges + switches - 1) + edges * (hostsPerEdge - 1);
    expect(Number(r.stdout.trim())).toBe(expected);
  }, 150_000);

  it('k = 32 (8,192 hosts) is accepted; k = 40 and 64 are refused with the estimate and the limit', () => {
    expect(parseScenario('name: a\nmode: sim\ntopology: { kind: fat-tree, k: 32 }\n', 'k32.yaml').topology).toEqual({ kind: 'fat-tree', k: 32 });
    for (const k of [40, 64]) {
      let err: unknown;
      try {
        parseScenario(`name: a\ntopology: { kind: fat-tree, k: ${k} }\n`, 'big.yaml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ScenarioError);
      const msg = (err as Error).message;
      expect(msg).toMatch(new RegExp(`^big\\.yaml: topology: expected a fabric that fits in this process's heap, got \\{"kind":"fat-tree","k":${k}\\}`));
      expect(msg).toMatch(/million routes need about \d+\.\d GiB; the limit is \d+\.\d GiB, half the heap; NODE_OPTIONS=--max-old-space-size=<MiB> raises it/);
    }
  }, 60_000);

  it('the estimate grows with switches × (edge switches + switches) routes', () => {
    const small = estimateFabricMemory(fatTreeTopology(4));
    expect(small.routes).toBe(20 * (8 + 20));
    expect(estimateFabricMemory(fatTreeTopology(32)).routes).toBe(1280 * (512 + 1280));
  });
});
