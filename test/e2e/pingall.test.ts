/**
 * pingall end to end through runScenario(): scenarios built in code and validated like files,
 * a real fabric (virtual time or real UDP sockets on loopback), and the report checked against
 * the contract's shape and against what the traffic implies for every counter.
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/runner.js';
import { parseScenario } from '../../src/scenario/load.js';
import {
  expectLosslessPingall, expectPingallShape, expectReportShape, fatTreeHops, hostNames, leafSpineHops, pingallScenario, starHops,
} from './helpers.js';

const LEAF_SPINE = {
  kind: 'leaf-spine',
  switches: ['leaf0', 'leaf1', 'spine0', 'spine1'],
  hosts: hostNames(8),
  links: 2 * 4 + 2 * 2,
};

const fatTreeSwitches = (k: number): string[] => {
  const half = k / 2;
  const out: string[] = [];
  for (let i = 0; i < half * half; i++) out.push(`core${i}`);
  for (let p = 0; p < k; p++) for (let i = 0; i < half; i++) out.push(`agg${p}_${i}`, `edge${p}_${i}`);
  return out;
};

const FAT_TREE = {
  kind: 'fat-tree',
  switches: fatTreeSwitches(4),
  hosts: hostNames(16),
  // host-edge 16, edge-agg 4 pods × 2 × 2, agg-core 4 pods × 2 × 2
  links: 16 + 16 + 16,
};

const star = (n: number) => ({ kind: 'star', switches: ['s0'], hosts: hostNames(n), links: n });

for (const mode of ['sim', 'udp'] as const) {
  describe(`pingall, mode ${mode}`, () => {
    it('leaf-spine 2x2, 4 hosts per leaf: every ordered pair answered, counters match the traffic', async () => {
      const s = pingallScenario('e2e-ls', { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 }, { mode, count: 3 });
      const r = await runScenario(s);
      expectReportShape(r, { name: 'e2e-ls', mode, seed: 1 }, LEAF_SPINE);
      expectLosslessPingall(r, 8, 3, leafSpineHops(4));
      for (const w of r.switches) expect(w.program).toBe('ecmp');
      // ECMP: 32 cross-leaf ordered pairs are spread over both spines
      for (const sp of ['spine0', 'spine1']) expect(r.switches.find((w) => w.name === sp)!.packetsIn, sp).toBeGreaterThan(0);
      const run = r.runs[0];
      expectPingallShape(run);
      // zero-delay links: no virtual time passes in sim; real time always does over sockets
      if (mode === 'sim') expect(run.rttUs).toMatchObject({ p50: 0, p99: 0 });
      else expect(run.rttUs.p50).toBeGreaterThan(0);
    });

    it('fat-tree k=4: every ordered pair answered, counters match the traffic', async () => {
      const s = pingallScenario('e2e-ft', { kind: 'fat-tree', k: 4 }, { mode, count: 2 });
      const r = await runScenario(s);
      expectReportShape(r, { name: 'e2e-ft', mode, seed: 1 }, FAT_TREE);
      expectLosslessPingall(r, 16, 2, fatTreeHops(4));
      // 192 inter-pod ordered pairs reach every core switch
      for (let c = 0; c < 4; c++) expect(r.switches.find((w) => w.name === `core${c}`)!.packetsIn, `core${c}`).toBeGreaterThan(0);
    });

    it('star of 2 hosts', async () => {
      const r = await runScenario(pingallScenario('e2e-star2', { kind: 'star', hosts: 2 }, { mode, count: 4 }));
      expectReportShape(r, { name: 'e2e-star2', mode, seed: 1 }, star(2));
      expectLosslessPingall(r, 2, 4, starHops);
      expect(r.runs[0]).toMatchObject({ pairs: 2, sent: 8, received: 8 });
      expect(r.switches[0]).toMatchObject({ name: 's0', packetsIn: 16, packetsOut: 16 });
    });
  });
}

describe('pingall on a star of 1 host', () => {
  it('is a valid scenario (hosts >= 1) and pings nobody: 0 pairs, 0 sent, correct', async () => {
    const s = pingallScenario('e2e-star1', { kind: 'star', hosts: 1 });
    expect(s.topology).toEqual({ kind: 'star', hosts: 1 });
    for (const mode of ['sim', 'udp'] as const) {
      const r = await runScenario(s, { mode });
      expectReportShape(r, { name: 'e2e-star1', mode, seed: 1 }, star(1));
      expect(r.runs).toHaveLength(1);
      expectPingallShape(r.runs[0]);
      expect(r.runs[0]).toMatchObject({ pairs: 0, sent: 0, received: 0, correct: true });
      expect(r.links[0]!.packets).toEqual({ ab: 0, ba: 0 });
      expect(r.switches[0]!.packetsIn).toBe(0);
    }
  });

  it('a star of 0 hosts is rejected with the key path', () => {
    expect(() => pingallScenario('e2e-star0', { kind: 'star', hosts: 0 })).toThrow(/topology\.hosts: expected an integer >= 1, got 0/);
  });
});

describe('pingall round-trip times in virtual time', () => {
  it('star with 5 us links: every RTT is exactly 4 link delays', async () => {
    const r = await runScenario(pingallScenario('e2e-rtt-star', { kind: 'star', hosts: 4 }, { links: { delayUs: 5 } }));
    expectLosslessPingall(r, 4, 3, starHops);
    expect(r.runs[0]).toMatchObject({ rttUs: { p50: 20, p99: 20 } });
  });

  it('leaf-spine with 5 us links: same-leaf RTT 20 us, cross-leaf 40 us', async () => {
    const r = await runScenario(pingallScenario('e2e-rtt-ls', { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 }, { links: { delayUs: 5 } }));
    expectLosslessPingall(r, 8, 3, leafSpineHops(4));
    // per host: 3 same-leaf peers (20 us) and 4 cross-leaf peers (40 us)
    const mean = Math.round(((3 * 20 + 4 * 40) / 7) * 1000) / 1000;
    const run = r.runs[0];
    expectPingallShape(run);
    expect(run.rttUs).toMatchObject({ p50: 40, p99: 40 });
    // mean and max are extensions of the contract's p50/p99
    expect(run.rttUs.mean).toBeCloseTo(mean, 2);
    expect(run.rttUs.max).toBe(40);
  });
});

describe('pingall from YAML text', () => {
  it('parseScenario output runs as is, the file mode overridden by the run options', async () => {
    const s = parseScenario(
      ['name: from-yaml', 'mode: udp', 'seed: 3', 'topology:', '  kind: star', '  hosts: 3', 'workloads:', '  - kind: pingall', '    count: 2'].join('\n'),
      'inline.yaml',
    );
    const r = await runScenario(s, { mode: 'sim' });
    expectReportShape(r, { name: 'from-yaml', mode: 'sim', seed: 3 }, star(3));
    expectLosslessPingall(r, 3, 2, starHops);
  });
});
