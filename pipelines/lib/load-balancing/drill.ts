import type { PipelineEnv, ProgramBuilder } from '../../../src/pipeline/program.js';
import type { Counter } from '../../../src/pipeline/externs/counter.js';
import { indexOfPort, LB_STAT_CHOICES, memberPort, type LoadBalancer } from './scheme.js';

/**
 * drill (DRILL(d, m), Ghorbani et al., SIGCOMM 2017): per packet, the least loaded (egress
 * queue bytes) of d random members and the m least loaded remembered from the last decision.
 */
/** DRILL(d, m) when the options say nothing: the paper's DRILL(2, 1) */
export const DRILL_DEFAULTS = { d: 2, m: 1 } as const;

export function drillOptions(o: Readonly<Record<string, unknown>>): { d: number; m: number } {
  const dm = (o.drill ?? {}) as { d?: unknown; m?: unknown };
  const d = dm.d ?? DRILL_DEFAULTS.d;
  const m = dm.m ?? DRILL_DEFAULTS.m;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) throw new Error(`drill.d must be an integer >= 1, got ${String(d)}`);
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 0) throw new Error(`drill.m must be an integer >= 0, got ${String(m)}`);
  return { d, m };
}

/** groups with their own DRILL memory (by group id); a switch has a handful */
export const DRILL_MEMORY_GROUPS = 256;

export function drillBalancer<M>(p: ProgramBuilder<M>, env: PipelineEnv, stats: Counter): LoadBalancer<M> {
  const { d, m } = drillOptions(env.options);
  const random = p.random('drill');
  // memory[group * m + j] = port + 1 of the j-th least loaded port last time (0 = empty)
  const memory = p.register('drill_memory', 16, DRILL_MEMORY_GROUPS * Math.max(1, m));
  const cand = new Int32Array(d + m);
  const candQ = new Float64Array(d + m);
  const used = new Uint8Array(d + m);
  return {
    kind: 'drill',
    choose(pkt, g) {
      stats.count(LB_STAT_CHOICES, 0);
      const n = g.members.length;
      const base = (g.groupId % DRILL_MEMORY_GROUPS) * m;
      let c = 0;
      // remembered ports first, so a tie keeps the packet where the last one went
      for (let j = 0; j < m; j++) {
        const stored = memory.read(base + j);
        if (stored === 0) continue;
        const idx = indexOfPort(g, stored - 1);
        if (idx < 0) continue;
        let dup = false;
        for (let k = 0; k < c; k++) if (cand[k] === idx) dup = true;
        if (dup) continue;
        cand[c] = idx;
        candQ[c++] = env.queueBytes(stored - 1);
      }
      for (let s = 0; s < d; s++) {
        const idx = random.read(0, n - 1);
        cand[c] = idx;
        candQ[c++] = env.queueBytes(memberPort(g, idx));
      }
      // the least loaded candidate (the first one on a tie: memory before samples)
      let bi = 0;
      for (let k = 1; k < c; k++) if (candQ[k]! < candQ[bi]!) bi = k;
      const chosen = cand[bi]!;
      // remember the m least loaded distinct ports seen, least loaded first
      used.fill(0);
      let w = 0;
      for (; w < m; w++) {
        let sel = -1;
        for (let k = 0; k < c; k++) if (used[k] === 0 && (sel < 0 || candQ[k]! < candQ[sel]!)) sel = k;
        if (sel < 0) break;
        for (let k = 0; k < c; k++) if (cand[k] === cand[sel]) used[k] = 1;
        memory.write(base + w, memberPort(g, cand[sel]!) + 1);
      }
      for (; w < m; w++) memory.write(base + w, 0);
      return chosen;
    },
  };
}
