import type { AllreduceResult, PingallResult, Report, RunResult } from './types.js';

function pad(s: string, n: number, left = false): string {
  return left ? s.padEnd(n) : s.padStart(n);
}

function fmt(v: unknown, digits = 2): string {
  return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : String(v ?? '-');
}

function pingallLines(r: PingallResult): string[] {
  return [
    `pingall: ${r.pairs} pairs, ${r.received}/${r.sent} replies, rtt p50 ${fmt(r.rttUs.p50, 1)} us p99 ${fmt(r.rttUs.p99, 1)} us` +
      (r.mismatched ? `, ${r.mismatched} mismatched` : '') +
      `  ${r.correct ? 'OK' : 'WRONG'}`,
  ];
}

/** All-reduce results in the style of nccl-tests' all_reduce_perf (bandwidths in Gbit/s). */
function allreduceLines(rs: AllreduceResult[]): string[] {
  const head =
    `#${pad('size(B)', 11)} ${pad('count', 10)} ${pad('type', 7)} ${pad('algorithm', 10)} ${pad('workers', 7)} ` +
    `${pad('time(us)', 11)} ${pad('algbw(Gb/s)', 11)} ${pad('busbw(Gb/s)', 11)} ${pad('retx', 6)} ${pad('maxerr', 9)}  result`;
  const lines = [head];
  for (const r of rs) {
    const elems = r.bytes / 4;
    lines.push(
      ` ${pad(String(r.bytes), 11)} ${pad(String(elems), 10)} ${pad(r.dtype, 7)} ${pad(r.algorithm, 10)} ${pad(String(r.workers), 7)} ` +
        `${pad((r.timeSec * 1e6).toFixed(1), 11)} ${pad(r.algbwGbps.toFixed(3), 11)} ${pad(r.busbwGbps.toFixed(3), 11)} ` +
        `${pad(String(r.retransmissions), 6)} ${pad(r.maxAbsError.toExponential(1), 9)}  ${r.correct ? 'OK' : 'WRONG'}` +
        (r.fallback ? `  (fallback: ${r.fallback})` : ''),
    );
  }
  const ring = rs.find((r) => r.algorithm === 'ring');
  for (const r of rs) {
    if (r === ring || !ring || r.fallback) continue;
    const n = r.workers;
    lines.push(`${r.algorithm} vs ring: x${(ring.timeSec / r.timeSec).toFixed(2)} (theory 2(N-1)/N = ${((2 * (n - 1)) / n).toFixed(2)})`);
  }
  return lines;
}

/** The fields of a flows result the table shows (hosts/flows.ts writes them). */
interface FlowsRow {
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

function isFlows(r: RunResult): boolean {
  return r.workload === 'flows' && typeof (r as unknown as FlowsRow).fctSlowdown === 'object';
}

/** Load-balancing schemes side by side: FCT slowdown overall and per size bin (p99), and the rest. */
function flowsLines(rs: FlowsRow[]): string[] {
  const first = rs[0]!;
  const bins = Object.keys(first.slowdownByBin ?? {});
  const lines = [
    `flows: ${first.distribution ?? '?'}, ${first.pattern ?? '?'}, load ${first.load ?? '?'}; FCT slowdown (FCT / ideal FCT on the idle fabric)`,
    `#${pad('scheme', 9)} ${pad('done', 11)} ${pad('mean', 7)} ${pad('p50', 7)} ${pad('p95', 7)} ${pad('p99', 8)} ` +
      bins.map((b) => pad(`p99 ${b}`, 15)).join(' ') +
      ` ${pad('reordered', 9)} ${pad('retx', 6)} ${pad('imbalance', 9)} ${pad('maxQ(KB)', 9)}  result`,
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

/**
 * MoE token exchange results side by side: consecutive results of one moe workload (one per
 * load-balancing scheme) share a table. Writes to `out`; returns the index after them.
 */
function moeLines(runs: readonly RunResult[], from: number, out: string[]): number {
  type Moe = {
    name?: string; loadBalancing: string; ranks: number; experts: number; topK: number; tokensPerRank: number; hidden: number;
    capacity: number; capacityFactor?: number | null; dropPolicy?: string; skew?: number; dispatchSec: number; combineSec: number;
    timeSec: number; overloadFactor: number; droppedTokens: number; auxLoss: number; zLoss: number; retransmissions?: number;
    fabricLinkImbalance?: number; correct: boolean;
  };
  const moe = (r: RunResult | undefined): Moe | null => (r && r.workload === 'moe' && typeof r.dispatchSec === 'number' ? (r as unknown as Moe) : null);
  const key = (m: Moe): string => JSON.stringify([m.name, m.ranks, m.experts, m.topK, m.tokensPerRank, m.hidden, m.capacity, m.capacityFactor, m.dropPolicy, m.skew]);
  const first = moe(runs[from])!;
  let to = from;
  while (moe(runs[to]) !== null && key(moe(runs[to])!) === key(first)) to++;
  const ms = (s: number): string => (s * 1e3).toFixed(3);
  out.push(
    `moe${first.name ? ` ${first.name}` : ''}: ${first.ranks} ranks, ${first.experts} experts, top-${first.topK}, ${first.tokensPerRank} tokens/rank x ${first.hidden}, ` +
      (first.capacity > 0 ? `capacity ${first.capacity} per (expert, source rank) (CF ${fmt(first.capacityFactor)}, drop ${first.dropPolicy ?? '?'})` : 'dropless') +
      `; times in ms`,
    `#${pad('scheme', 9)} ${pad('skew', 5)} ${pad('dispatch', 9)} ${pad('combine', 9)} ${pad('total', 9)} ${pad('overload', 8)} ${pad('dropped', 8)} ${pad('auxLoss', 8)} ${pad('zLoss', 8)} ${pad('retx', 6)} ${pad('imbalance', 9)}  result`,
  );
  for (const m of runs.slice(from, to) as unknown as Moe[]) {
    out.push(
      ` ${pad(m.loadBalancing, 9)} ${pad(fmt(m.skew), 5)} ${pad(ms(m.dispatchSec), 9)} ${pad(ms(m.combineSec), 9)} ${pad(ms(m.timeSec), 9)} ${pad(m.overloadFactor.toFixed(3), 8)} ` +
        `${pad(String(m.droppedTokens), 8)} ${pad(m.auxLoss.toFixed(4), 8)} ${pad(m.zLoss.toFixed(3), 8)} ${pad(String(m.retransmissions ?? '-'), 6)} ${pad(m.fabricLinkImbalance === undefined ? '-' : m.fabricLinkImbalance.toFixed(3), 9)}  ${m.correct ? 'OK' : 'WRONG'}`,
    );
  }
  return to;
}

function genericLines(r: RunResult): string[] {
  const fields = Object.entries(r)
    .filter(([k, v]) => k !== 'workload' && k !== 'correct' && (typeof v === 'number' || typeof v === 'string'))
    .map(([k, v]) => `${k}=${fmt(v, 3)}`);
  return [`${r.workload}: ${fields.join(' ')}  ${r.correct ? 'OK' : 'WRONG'}`];
}

/** A completed all-reduce result (a failed one carries what it was asked, and `error`, but no times). */
function isAllreduce(r: RunResult): r is AllreduceResult {
  return r.workload === 'allreduce' && typeof (r as AllreduceResult).dtype === 'string' && typeof (r as AllreduceResult).timeSec === 'number';
}

/** The human-readable table `ina run` prints. */
export function renderReport(report: Report): string {
  const out: string[] = [];
  out.push(`# ${report.scenario}: ${report.topology.kind}, ${report.topology.switches.length} switches, ${report.topology.hosts.length} hosts, ${report.topology.links} links; mode ${report.mode}, seed ${report.seed}`);
  let i = 0;
  const runs = report.runs;
  while (i < runs.length) {
    const r = runs[i]!;
    if (isAllreduce(r)) {
      const group: AllreduceResult[] = [];
      while (i < runs.length && isAllreduce(runs[i]!) && (runs[i] as AllreduceResult).bytes === (r as AllreduceResult).bytes) group.push(runs[i++] as AllreduceResult);
      out.push(...allreduceLines(group));
      continue;
    }
    if (isFlows(r)) {
      const group: FlowsRow[] = [];
      // consecutive results of one flows workload (one per scheme) share a table
      const key = (x: RunResult): string => {
        const f = x as unknown as FlowsRow & { name?: string };
        return JSON.stringify([f.name, f.distribution, f.pattern, f.load, f.flows]);
      };
      const same = (x: RunResult): boolean => isFlows(x) && key(x) === key(r);
      while (i < runs.length && same(runs[i]!)) group.push(runs[i++] as unknown as FlowsRow);
      out.push(...flowsLines(group));
      continue;
    }
    if (r.workload === 'moe' && typeof r.dispatchSec === 'number') { i = moeLines(runs, i, out); continue; }
    if (r.workload === 'pingall' && 'rttUs' in r) out.push(...pingallLines(r as PingallResult));
    else out.push(...genericLines(r));
    i++;
  }
  const drops = report.switches.reduce((s, w) => s + w.drops.parser + w.drops.table + w.drops.queue, 0);
  const packetsIn = report.switches.reduce((s, w) => s + w.packetsIn, 0);
  if (packetsIn === 0 && report.runs.length > 0 && report.runs.every((r) => 'loadBalancing' in r)) {
    // Every workload compared schemes, each on a fabric of its own: their link figures are
    // in each run, and the scenario's fabric (what `links`/`switches` describe) stayed idle.
    out.push(`# each comparison ran on its own fabric per scheme (per-link figures are in each run of the JSON report); all runs ${report.runs.every((r) => r.correct) ? 'correct' : 'NOT correct'}`);
    return out.join('\n');
  }
  const consumed = report.switches.reduce((s, w) => s + (w.consumed ?? 0), 0);
  out.push(`# switches: ${report.switches.reduce((s, w) => s + w.packetsIn, 0)} packets in, ${consumed ? `${consumed} aggregated, ` : ''}${drops} dropped; all runs ${report.runs.every((r) => r.correct) ? 'correct' : 'NOT correct'}`);
  return out.join('\n');
}
