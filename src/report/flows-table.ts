import type { WorkloadTable } from '../manifest/descriptor.js';
import { pad } from './columns.js';
import type { RunResult } from './types.js';

/** The fields of a flows result the table shows (hosts/flows/flows.ts writes them). */
interface FlowsRow {
  name?: string;
  loadBalancing: string;
  flows: number;
  completed: number;
  fctSlowdown: { mean: number; p50: number; p95: number; p99: number };
  slowdownByBin?: Record<string, { flows: number; p99: number }>;
  reorderedPackets: number;
  retransmissions?: number;
  uplinkImbalance: number;
  maxQueueBytes: number;
  correct: boolean;
  distribution?: string;
  pattern?: string;
  load?: number;
}

/** Load-balancing schemes side by side: FCT slowdown overall and per size bin (p99), and the rest. */
function flowsLines(rs: readonly FlowsRow[]): string[] {
  const first = rs[0]!;
  const bins = Object.keys(first.slowdownByBin ?? {});
  const lines = [
    `flows: ${first.distribution ?? '?'}, ${first.pattern ?? '?'}, load ${first.load ?? '?'}; FCT slowdown (FCT / ideal FCT on the idle fabric)`,
    `#${pad('scheme', 9)} ${pad('done', 11)} ${pad('mean', 7)} ${pad('p50', 7)} ${pad('p95', 7)} ${pad('p99', 8)} ` +
      bins.map((b) => pad(`p99 ${b}`, 15)).join(' ') +
      ` ${pad('reordered', 9)} ${pad('retx', 6)} ${pad('imbalance', 9)} ${pad('maxQ(KiB)', 9)}  result`,
  ];
  for (const r of rs) {
    const s = r.fctSlowdown;
    lines.push(
      ` ${pad(r.loadBalancing, 9)} ${pad(`${r.completed}/${r.flows}`, 11)} ${pad(s.mean.toFixed(2), 7)} ${pad(s.p50.toFixed(2), 7)} ${pad(s.p95.toFixed(2), 7)} ${pad(s.p99.toFixed(2), 8)} ` +
        bins.map((b) => pad(r.slowdownByBin![b]!.flows > 0 ? r.slowdownByBin![b]!.p99.toFixed(2) : '-', 15)).join(' ') +
        ` ${pad(String(r.reorderedPackets), 9)} ${pad(String(r.retransmissions ?? '-'), 6)} ${pad(r.uplinkImbalance.toFixed(3), 9)} ${pad((r.maxQueueBytes / 1024).toFixed(1), 9)}  ${r.correct ? 'OK' : 'WRONG'}`,
    );
  }
  return lines;
}

/** Consecutive results of one flows workload (one per scheme) share a table. */
export const flowsTable: WorkloadTable = {
  isRow: (r: RunResult) => r.workload === 'flows' && typeof (r as unknown as FlowsRow).fctSlowdown === 'object',
  key: (r) => {
    const f = r as unknown as FlowsRow;
    return JSON.stringify([f.name, f.distribution, f.pattern, f.load, f.flows]);
  },
  lines: (rows) => flowsLines(rows as unknown as FlowsRow[]),
};
