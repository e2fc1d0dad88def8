import type { WorkloadTable } from '../manifest/descriptor.js';
import type { PingallResult, RunResult } from './types.js';
import { formatMicros } from './units.js';

function pingallLines(r: PingallResult): string[] {
  const lines = [
    `pingall: ${r.pairs} pairs, ${r.received}/${r.sent} replies${r.lost ? ` (${r.lost} lost)` : ''}, rtt p50 ${formatMicros(r.rttUs.p50)} p99 ${formatMicros(r.rttUs.p99)}` +
      (r.mismatched ? `, ${r.mismatched} mismatched` : '') +
      (r.unanswered ? `, ${r.unanswered} pairs never answered` : '') +
      `  ${r.correct ? 'OK' : 'WRONG'}`,
  ];
  // A lossy run's OK depends on a rule the reader should see; a failure always says which.
  if (r.criterion && (r.lost > 0 || !r.correct)) lines.push(`  verdict: ${r.criterion}`);
  return lines;
}

/** One line per pingall run (and its verdict when it lost something or failed). */
export const pingallTable: WorkloadTable = {
  isRow: (r: RunResult) => r.workload === 'pingall' && 'rttUs' in r,
  lines: (rows) => rows.flatMap((r) => pingallLines(r as PingallResult)),
};
