import { pad } from './columns.js';
import type { AllreduceResult, PingallResult, Report, RunResult } from './types.js';
import { allreduceLines } from './allreduce-table.js';
import { formatMicros } from './units.js';

function fmt(v: unknown, digits = 2): string {
  return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : String(v ?? '-');
}

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

/** The fields of a flows result the table shows (hosts/flows/flows.ts writes them). */
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

/**
 * What an all-reduce over real sockets shows, and what its times are not: printed under every
 * udp report with all-reduce runs, so loopback timings are never read as a network's.
 */
const UDP_NOTE = [
  '# udp: real datagrams through the switches\' sockets, every result checked against a float64 reference (int32 exactly, float32 within errorBound).',
  '# Its times are wall-clock on this machine: the emulator\'s own CPU time, timers of ~1 ms and retransmissions after socket-buffer drops shape them',
  '# as much as the links do, so they show that the run works, not how fast the algorithms are on a network; sim mode measures that.',
];

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
      out.push(...allreduceLines(group, report.mode));
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
  if (report.mode === 'udp' && runs.some(isAllreduce)) out.push(...UDP_NOTE);
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
