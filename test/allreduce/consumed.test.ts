import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/run/runner.js';

// An aggregator absorbs contributions on purpose; the report must count them as consumed,
// never as drops (a researcher reading "dropped" would look for a fault that isn't there).
describe('absorbed contributions are consumed, not dropped', () => {
  for (const algorithm of ['switchml', 'sharp'] as const) {
    it(`${algorithm}: lossless run has consumed > 0 and no table drops`, async () => {
      const s = validateScenario({
        name: `consumed-${algorithm}`,
        mode: 'sim',
        topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
        links: { rateGbps: 10 },
        workloads: [{ kind: 'allreduce', algorithms: [algorithm], bytes: 64 * 1024, dtype: 'int32', iterations: 1 }],
      });
      const report = await runScenario(s);
      expect(report.runs.every((r) => r.correct)).toBe(true);
      const consumed = report.switches.reduce((n, w) => n + w.consumed, 0);
      const tableDrops = report.switches.reduce((n, w) => n + w.drops.table, 0);
      // 64 KiB of int32 in 256 B frames (64 elements, the default elementsPerPacket) is 256
      // packets; each packet's 4 contributions end as one sum, so 4 - 1 = 3 are absorbed per
      // packet, at the one switchml switch or spread over the sharp tree's switches alike
      expect(consumed).toBe(3 * 256);
      expect(tableDrops).toBe(0);
    });
  }
});
