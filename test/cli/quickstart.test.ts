/**
 * `npm start`: a comparison in virtual time that prints the same numbers on every run and
 * holds each algorithm against the theory, then a short real-UDP run whose results are exact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ina, ROOT, STACK_FRAME } from './helpers.js';
import type { AllreduceResult, Report } from '../../src/report/types.js';

describe('npm start', () => {
  it('runs the sim comparison first, then the udp demonstration', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe('node bin/ina.js run scenarios/quickstart.yaml && node bin/ina.js run scenarios/quickstart-udp.yaml');
  });

  it('quickstart.yaml: twice the same table and report; in-network runs at the theory corrected for frame overhead', async () => {
    const [one, two] = [await ina(['run', 'scenarios/quickstart.yaml', '--json', '-']), await ina(['run', 'scenarios/quickstart.yaml', '--json', '-'])];
    for (const r of [one, two]) expect(r.code, r.stderr).toBe(0);
    expect(two.stderr).toBe(one.stderr);
    expect(two.stdout).toBe(one.stdout);
    const report = JSON.parse(one.stdout) as Report;
    expect(report.mode).toBe('sim');
    const runs = report.runs as AllreduceResult[];
    expect(runs.map((r) => r.algorithm)).toEqual(['ring', 'switchml', 'sharp']);
    for (const r of runs) {
      expect(r).toMatchObject({ workers: 8, correct: true, fallback: null });
      // GB/s beside Gbit/s, the same measurement
      expect(r.algbwGBps).toBeCloseTo(r.algbwGbps / 8, 4);
      expect(r.busbwGBps).toBeCloseTo(r.busbwGbps / 8, 4);
    }
    for (const alg of ['switchml', 'sharp']) {
      const m = new RegExp(`^${alg} vs ring: x(\\d+\\.\\d+) \\(theory for ring vs in-network 2\\(N-1\\)/N = 1\\.75; with frame overhead x(\\d+\\.\\d+): payload/sent ring [\\d.]+ %, ${alg} [\\d.]+ %\\)$`, 'm').exec(one.stderr);
      expect(m, one.stderr).not.toBeNull();
      // host links the bottleneck, no propagation delay: what is left after the headers is the
      // emulator's error, under 1 %
      expect(Math.abs(Number(m![1]) / Number(m![2]) - 1)).toBeLessThan(0.01);
    }
    expect(one.stderr).not.toMatch(/# udp:/);
  }, 120_000);

  it('quickstart-udp.yaml: real datagrams, every result exact, and the table says what its times are not', async () => {
    const r = await ina(['run', 'scenarios/quickstart-udp.yaml', '--json', '-'], { timeoutMs: 110_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.mode).toBe('udp');
    const all = report.runs.filter((x) => x.workload === 'allreduce') as AllreduceResult[];
    expect(all.map((x) => x.algorithm)).toEqual(['ring', 'switchml', 'sharp']);
    for (const x of all) expect(x).toMatchObject({ dtype: 'int32', correct: true, maxAbsError: 0, wrongElements: 0 });
    for (const alg of ['switchml', 'sharp']) expect(r.stderr).toMatch(new RegExp(`^${alg} vs ring: x\\d+\\.\\d+ wall-clock \\(not a test of the theory`, 'm'));
    expect(r.stderr).toMatch(/^# udp: real datagrams through the switches' sockets/m);
    expect(r.stderr).toMatch(/not how fast the algorithms are on a network; sim mode measures that\.$/m);
  }, 120_000);
});
