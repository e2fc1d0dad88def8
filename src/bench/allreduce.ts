import { validateScenario } from '../scenario/load.js';
import { runScenario } from '../run/runner.js';
import type { AllreduceResult } from '../report/types.js';

export interface AllreduceBenchResult {
  bench: 'allreduce';
  mode: 'sim' | 'udp';
  workers: number;
  bytes: number;
  rateGbps: number;
  ringSec: number;
  switchmlSec: number;
  speedup: number;
  /** 2(N-1)/N: the ring moves that many times S per worker, SwitchML moves S up and S down */
  theory: number;
  /** tensor bytes / time over the link rate (sim only, where links have a rate) */
  switchmlGoodputOfLink: number | null;
  /** same, over what the link can carry of payload given per-frame headers */
  switchmlGoodputOfMax: number | null;
  correct: boolean;
}

const FRAME_HEADER_BYTES = 36 + 12;

/**
 * Ring vs SwitchML on the same fabric (8 workers on one switch) in one run. sim: links are the bottleneck (rate set),
 * so the speedup should approach 2(N-1)/N; udp: loopback, unshaped, where the hosts' CPU is.
 */
export async function benchAllreduce(o: { modes?: Array<'sim' | 'udp'>; simBytes?: number; udpBytes?: number } = {}): Promise<AllreduceBenchResult[]> {
  const out: AllreduceBenchResult[] = [];
  for (const mode of o.modes ?? ['sim', 'udp']) {
    const sim = mode === 'sim';
    const bytes = sim ? (o.simBytes ?? 64 * 2 ** 20) : (o.udpBytes ?? 4 * 2 ** 20);
    const rateGbps = sim ? 10 : 0;
    const elementsPerPacket = 256;
    const scenario = validateScenario({
      name: `bench-allreduce-${mode}`,
      mode,
      seed: 1,
      // One rack, as in SwitchML's testbed: every worker one hop from the aggregating switch.
      // (Flat aggregation at a spine funnels a leaf's workers through one uplink; see README.)
      topology: { kind: 'star', hosts: 8 },
      links: { rateGbps, delayUs: sim ? 1 : 0 },
      switches: { aggregation: { slots: 512, elementsPerPacket } },
      workloads: [{ kind: 'allreduce', algorithms: ['ring', 'switchml'], bytes, dtype: 'float32', iterations: sim ? 1 : 3 }],
    }, `<bench allreduce ${mode}>`);
    const report = await runScenario(scenario);
    const runs = report.runs as AllreduceResult[];
    const ring = runs.find((r) => r.algorithm === 'ring');
    const sml = runs.find((r) => r.algorithm === 'switchml');
    if (!ring || !sml || typeof ring.timeSec !== 'number' || typeof sml.timeSec !== 'number') {
      throw new Error(`bench allreduce (${mode}): a run failed: ${JSON.stringify(runs.map((r) => ({ algorithm: r.algorithm, error: (r as { error?: string }).error })))}`);
    }
    const n = sml.workers;
    const goodputGbps = (bytes * 8) / sml.timeSec / 1e9;
    const payload = elementsPerPacket * 4;
    out.push({
      bench: 'allreduce',
      mode,
      workers: n,
      bytes,
      rateGbps,
      ringSec: ring.timeSec,
      switchmlSec: sml.timeSec,
      speedup: Math.round((ring.timeSec / sml.timeSec) * 1000) / 1000,
      theory: Math.round(((2 * (n - 1)) / n) * 1000) / 1000,
      switchmlGoodputOfLink: sim ? Math.round((goodputGbps / rateGbps) * 1000) / 1000 : null,
      switchmlGoodputOfMax: sim ? Math.round((goodputGbps / (rateGbps * payload / (payload + FRAME_HEADER_BYTES))) * 1000) / 1000 : null,
      correct: ring.correct && sml.correct,
    });
  }
  return out;
}
