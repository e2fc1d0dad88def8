/**
 * The all-reduce table: nccl-tests' units (GB/s = 10^9 bytes/s, readable times), each job
 * compared with its own ring, and the ring-vs-in-network theory with each algorithm's frame
 * overhead, so a reader can tell emulator error from header cost.
 */
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report/table.js';
import { jobsOf } from '../../src/report/allreduce-table.js';
import { compareWithRing } from '../../src/report/allreduce-theory.js';
import { formatDuration, formatGBps } from '../../src/report/units.js';
import type { AllreduceResult, Report, RunResult } from '../../src/report/types.js';

const MiB = 1 << 20;

function result(o: Partial<AllreduceResult> & Pick<AllreduceResult, 'algorithm' | 'timeSec'>): AllreduceResult {
  const workers = o.workers ?? 8;
  const bytes = o.bytes ?? 4 * MiB;
  const algbw = (bytes * 8) / o.timeSec / 1e9;
  return {
    workload: 'allreduce', workers, bytes, dtype: 'float32', iterations: 1, timesSec: [o.timeSec],
    algbwGbps: algbw, busbwGbps: (algbw * 2 * (workers - 1)) / workers, algbwGBps: algbw / 8, busbwGBps: (algbw * 2 * (workers - 1)) / workers / 8,
    bytesSentPerWorker: bytes, retransmissions: 0, correct: true, maxAbsError: 0, errorBound: 0, fallback: null, tierBytes: {},
    ...o,
  };
}

function report(runs: RunResult[], mode: 'sim' | 'udp' = 'sim'): Report {
  return { version: 1, scenario: 't', mode, seed: 1, topology: { kind: 'star', switches: ['s0'], hosts: ['h0'], links: 1 }, runs, links: [], switches: [] };
}

describe('units like nccl-tests', () => {
  it('bandwidths in GB/s (the GBps fields, 1/8 of the Gbit/s ones), times in us, ms or s', () => {
    const text = renderReport(report([result({ algorithm: 'ring', timeSec: 0.000622 }), result({ algorithm: 'ring', bytes: 64 * MiB, timeSec: 1.8362 })]));
    expect(text).toMatch(/algbw\(GB\/s\) busbw\(GB\/s\)/);
    expect(text).not.toMatch(/Gb\/s|time\(us\)/);
    const rows = text.split('\n').filter((l) => /^ +\d/.test(l));
    // 4 MiB in 622 us: 6.74 GB/s algbw, x 14/8 = 11.80 GB/s busbw
    expect(rows[0]).toMatch(/ 622\.0 us +6\.74 +11\.80 /);
    // 64 MiB in 1.8362 s: 0.0365 GB/s, busbw 0.0640 GB/s (three significant digits below 0.1)
    expect(rows[1]).toMatch(/ 1\.836 s +0\.0365 +0\.0640 /);
  });

  it('formats durations and bandwidths', () => {
    expect(formatDuration(0)).toBe('0.0 us');
    expect(formatDuration(0.000622)).toBe('622.0 us');
    expect(formatDuration(0.01407)).toBe('14.070 ms');
    expect(formatDuration(1.8362)).toBe('1.836 s');
    expect(formatGBps(11.8)).toBe('11.80');
    expect(formatGBps(0)).toBe('0.00');
    expect(formatGBps(0.00037)).toBe('0.000370');
  });

  it('labels the flows table queue column KiB (it divides by 1024)', () => {
    const flows = { workload: 'flows', loadBalancing: 'ecmp', flows: 1, completed: 1, fctSlowdown: { mean: 1, p50: 1, p95: 1, p99: 1 }, reorderedPackets: 0, uplinkImbalance: 0, maxQueueBytes: 2048, correct: true };
    const text = renderReport(report([flows]));
    expect(text).toMatch(/maxQ\(KiB\)/);
    expect(text).toMatch(/ 2\.0 +OK/);
  });
});

describe('several jobs in one table', () => {
  const jobA = [result({ name: 'job-a', algorithm: 'sharp', workers: 6, timeSec: 0.007 }), result({ name: 'job-a', algorithm: 'ring', workers: 6, timeSec: 0.021 })];
  const jobB = [result({ name: 'job-b', algorithm: 'sharp', workers: 6, timeSec: 0.007 }), result({ name: 'job-b', algorithm: 'ring', workers: 6, timeSec: 0.014 })];

  it('compares each job with its own ring, never a ring with a ring, and shows a job column', () => {
    const text = renderReport(report([...jobA, ...jobB]));
    expect(text).not.toMatch(/ring vs ring/);
    expect(text).toMatch(/^job-a: sharp vs ring: x3\.00 /m);
    expect(text).toMatch(/^job-b: sharp vs ring: x2\.00 /m);
    expect(text).toMatch(/^#job /m);
    expect(text.split('\n').filter((l) => /^ job-a +\d/.test(l))).toHaveLength(2);
    expect(text.split('\n').filter((l) => /^ job-b +\d/.test(l))).toHaveLength(2);
  });

  it('a single job keeps the table without a job column or prefix', () => {
    const text = renderReport(report(jobA));
    expect(text).not.toMatch(/#job|job-a:/);
    expect(text).toMatch(/^sharp vs ring: x3\.00 /m);
  });

  it('unnamed workloads are told apart where an algorithm repeats', () => {
    const runs = [result({ algorithm: 'ring', timeSec: 1 }), result({ algorithm: 'switchml', timeSec: 0.5 }), result({ algorithm: 'ring', timeSec: 2 }), result({ algorithm: 'switchml', timeSec: 0.5 })];
    expect(jobsOf(runs).map((j) => [j.label, j.runs.map((r) => r.algorithm)])).toEqual([['1', ['ring', 'switchml']], ['2', ['ring', 'switchml']]]);
    const text = renderReport(report(runs));
    expect(text).toMatch(/^1: switchml vs ring: x2\.00 /m);
    expect(text).toMatch(/^2: switchml vs ring: x4\.00 /m);
  });
});

describe('the theory line', () => {
  it('states the ring-vs-in-network theory and its value corrected by payload/bytes sent of each algorithm', () => {
    // 8 workers, 4 MiB: the ring's payload is 7 MiB per worker, sent as 7.4 MiB; switchml's 4 MiB as 4.2 MiB
    const ring = result({ algorithm: 'ring', timeSec: 0.00062, bytesSentPerWorker: 7.4 * MiB });
    const sml = result({ algorithm: 'switchml', timeSec: 0.00035, bytesSentPerWorker: 4.2 * MiB });
    const c = compareWithRing(ring, sml);
    expect(c.theory).toBe(1.75);
    expect(c.ringEfficiency).toBeCloseTo(7 / 7.4, 12);
    expect(c.efficiency).toBeCloseTo(4 / 4.2, 12);
    // = the ring's bytes sent over switchml's
    expect(c.corrected).toBeCloseTo(7.4 / 4.2, 12);
    const text = renderReport(report([ring, sml]));
    expect(text).toContain('switchml vs ring: x1.77 (theory for ring vs in-network 2(N-1)/N = 1.75; with frame overhead x1.76: payload/sent ring 94.6 %, switchml 95.2 %)');
  });

  it('no theory for a fallback, no ratio when no time passed', () => {
    const ring = result({ algorithm: 'ring', timeSec: 0.001 });
    const fell = result({ algorithm: 'switchml', timeSec: 0.001, fallback: 'ring: no free slots' });
    expect(renderReport(report([ring, fell]))).not.toMatch(/vs ring/);
    const zero = { ...result({ algorithm: 'switchml', timeSec: 1 }), timeSec: 0 };
    expect(renderReport(report([ring, zero]))).toMatch(/switchml vs ring: no time passed \(unshaped links in sim/);
  });

  it('over udp the table says what the run proves and what its times do not mean; in sim it does not', () => {
    const runs = [result({ algorithm: 'ring', timeSec: 0.7 }), result({ algorithm: 'sharp', timeSec: 0.35 })];
    const udp = renderReport(report(runs, 'udp'));
    expect(udp).toMatch(/# udp: real datagrams through the switches' sockets, every result checked against a float64 reference/);
    expect(udp).toMatch(/not how fast the algorithms are on a network; sim mode measures that/);
    // the ratio is named for what it is, and the theory is not offered as its yardstick
    expect(udp).toContain('sharp vs ring: x2.00 wall-clock (not a test of the theory for ring vs in-network, 2(N-1)/N = 1.75: see the udp note below)');
    expect(udp).not.toMatch(/frame overhead/);
    const sim = renderReport(report(runs, 'sim'));
    expect(sim).not.toMatch(/# udp:|wall-clock/);
    expect(sim).toMatch(/^sharp vs ring: x2\.00 \(theory for ring vs in-network/m);
  });
});
