import { pad } from './columns.js';
import type { WorkloadTable } from '../manifest/descriptor.js';
import type { AllreduceResult, RunResult } from './types.js';
import { compareWithRing } from './allreduce-theory.js';
import { formatDuration, formatGBps, gbpsToGBps } from './units.js';

/** The results of one all-reduce job: one workload, one entry per algorithm it compared. */
interface Job {
  label: string;
  runs: AllreduceResult[];
}

/**
 * Consecutive results split into jobs. A job is a workload's list of algorithms: named
 * workloads by their `name`; unnamed ones (numbered) end where an algorithm repeats or the
 * workers or dtype change, since one workload runs each algorithm once on one set of workers.
 */
export function jobsOf(rs: readonly AllreduceResult[]): Job[] {
  const jobs: Job[] = [];
  let unnamed = 0;
  for (const r of rs) {
    const name = typeof r.name === 'string' ? r.name : undefined;
    const cur = jobs[jobs.length - 1];
    const first = cur?.runs[0];
    const same =
      cur !== undefined && first !== undefined &&
      (name !== undefined
        ? first.name === name
        : first.name === undefined && first.workers === r.workers && first.dtype === r.dtype && !cur.runs.some((x) => x.algorithm === r.algorithm));
    if (same) cur.runs.push(r);
    else jobs.push({ label: name ?? String(++unnamed), runs: [r] });
  }
  return jobs;
}

const bandwidthGBps = (r: AllreduceResult, k: 'algbw' | 'busbw'): number => {
  const v = r[`${k}GBps`];
  return typeof v === 'number' ? v : gbpsToGBps(r[`${k}Gbps`]);
};

const percent = (x: number): string => `${(x * 100).toFixed(1)} %`;

/**
 * A job's non-ring runs held against its own ring run (a job without one has no line). Over
 * udp the ratio is of wall-clock times on this machine, and says so beside the theory.
 */
function comparisonLines(job: Job, prefix: string, mode: 'sim' | 'udp'): string[] {
  const ring = job.runs.find((r) => r.algorithm === 'ring' && !r.fallback);
  if (!ring) return [];
  const out: string[] = [];
  for (const r of job.runs) {
    if (r === ring || r.fallback) continue;
    const c = compareWithRing(ring, r);
    const head = `${prefix}${r.algorithm} vs ring:`;
    if (c.speedup === null) {
      out.push(`${head} no time passed (unshaped links in sim: set links.rateGbps to compare)`);
      continue;
    }
    let line = `${head} x${c.speedup.toFixed(2)}`;
    if (mode === 'udp') {
      line += ' wall-clock';
      if (c.theory !== null) line += ` (not a test of the theory for ring vs in-network, 2(N-1)/N = ${c.theory.toFixed(2)}: see the udp note below)`;
    } else if (c.theory !== null) {
      line += ` (theory for ring vs in-network 2(N-1)/N = ${c.theory.toFixed(2)}`;
      if (c.corrected !== null) line += `; with frame overhead x${c.corrected.toFixed(2)}: payload/sent ring ${percent(c.ringEfficiency!)}, ${r.algorithm} ${percent(c.efficiency!)}`;
      line += ')';
    }
    out.push(line);
  }
  return out;
}

/**
 * All-reduce results in the style of nccl-tests' all_reduce_perf (bandwidths in GB/s), with a
 * job column when the table holds several jobs, each compared with its own ring run.
 */
export function allreduceLines(rs: readonly AllreduceResult[], mode: 'sim' | 'udp'): string[] {
  const jobs = jobsOf(rs);
  const several = jobs.length > 1;
  const jobWidth = Math.max(3, ...jobs.map((j) => j.label.length));
  const jobCell = (s: string): string => (several ? `${pad(s, jobWidth, true)} ` : '');
  const lines = [
    `#${jobCell('job')}${pad('size(B)', 11)} ${pad('count', 10)} ${pad('type', 7)} ${pad('algorithm', 10)} ${pad('workers', 7)} ` +
      `${pad('time', 11)} ${pad('algbw(GB/s)', 11)} ${pad('busbw(GB/s)', 11)} ${pad('retx', 6)} ${pad('maxerr', 9)}  result`,
  ];
  for (const job of jobs) {
    for (const r of job.runs) {
      lines.push(
        ` ${jobCell(job.label)}${pad(String(r.bytes), 11)} ${pad(String(r.bytes / 4), 10)} ${pad(r.dtype, 7)} ${pad(r.algorithm, 10)} ${pad(String(r.workers), 7)} ` +
          `${pad(formatDuration(r.timeSec), 11)} ${pad(formatGBps(bandwidthGBps(r, 'algbw')), 11)} ${pad(formatGBps(bandwidthGBps(r, 'busbw')), 11)} ` +
          `${pad(String(r.retransmissions), 6)} ${pad(r.maxAbsError.toExponential(1), 9)}  ${r.correct ? 'OK' : 'WRONG'}` +
          (r.fallback ? `  (fallback: ${r.fallback})` : ''),
      );
    }
  }
  for (const job of jobs) lines.push(...comparisonLines(job, several ? `${job.label}: ` : '', mode));
  return lines;
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

/** Consecutive completed all-reduces of one tensor size share a table (with a job column when several jobs). */
export const allreduceTable: WorkloadTable = {
  isRow: isAllreduce,
  key: (r) => String((r as AllreduceResult).bytes),
  lines: (rows, mode) => allreduceLines(rows as AllreduceResult[], mode),
  footer: (mode) => (mode === 'udp' ? UDP_NOTE : []),
};
