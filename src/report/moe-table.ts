import type { WorkloadTable } from '../manifest/descriptor.js';
import { fmt, pad } from './columns.js';
import type { RunResult } from './types.js';

/** The fields of a moe result the table shows (hosts/moe/moe.ts writes them). */
interface MoeRow {
  name?: string; loadBalancing: string; ranks: number; experts: number; topK: number; tokensPerRank: number; hidden: number;
  capacity: number; capacityFactor?: number | null; dropPolicy?: string; skew?: number; dispatchSec: number; combineSec: number;
  timeSec: number; overloadFactor: number; droppedTokens: number; auxLoss: number; zLoss: number; retransmissions?: number;
  fabricLinkImbalance?: number; correct: boolean;
}

/** MoE token exchange results side by side, one row per load-balancing scheme. */
function moeLines(rows: readonly MoeRow[]): string[] {
  const first = rows[0]!;
  const ms = (s: number): string => (s * 1e3).toFixed(3);
  const out = [
    `moe${first.name ? ` ${first.name}` : ''}: ${first.ranks} ranks, ${first.experts} experts, top-${first.topK}, ${first.tokensPerRank} tokens/rank x ${first.hidden}, ` +
      (first.capacity > 0 ? `capacity ${first.capacity} per (expert, source rank) (CF ${fmt(first.capacityFactor)}, drop ${first.dropPolicy ?? '?'})` : 'dropless') +
      `; times in ms`,
    `#${pad('scheme', 9)} ${pad('skew', 5)} ${pad('dispatch', 9)} ${pad('combine', 9)} ${pad('total', 9)} ${pad('overload', 8)} ${pad('dropped', 8)} ${pad('auxLoss', 8)} ${pad('zLoss', 8)} ${pad('retx', 6)} ${pad('imbalance', 9)}  result`,
  ];
  for (const m of rows) {
    out.push(
      ` ${pad(m.loadBalancing, 9)} ${pad(fmt(m.skew), 5)} ${pad(ms(m.dispatchSec), 9)} ${pad(ms(m.combineSec), 9)} ${pad(ms(m.timeSec), 9)} ${pad(m.overloadFactor.toFixed(3), 8)} ` +
        `${pad(String(m.droppedTokens), 8)} ${pad(m.auxLoss.toFixed(4), 8)} ${pad(m.zLoss.toFixed(3), 8)} ${pad(String(m.retransmissions ?? '-'), 6)} ${pad(m.fabricLinkImbalance === undefined ? '-' : m.fabricLinkImbalance.toFixed(3), 9)}  ${m.correct ? 'OK' : 'WRONG'}`,
    );
  }
  return out;
}

/** Consecutive results of one moe workload (one per load-balancing scheme) share a table. */
export const moeTable: WorkloadTable = {
  isRow: (r: RunResult) => r.workload === 'moe' && typeof r.dispatchSec === 'number',
  key: (r) => {
    const m = r as unknown as MoeRow;
    return JSON.stringify([m.name, m.ranks, m.experts, m.topK, m.tokensPerRank, m.hidden, m.capacity, m.capacityFactor, m.dropPolicy, m.skew]);
  },
  lines: (rows) => moeLines(rows as unknown as MoeRow[]),
};
