/**
 * `ina bench pipeline` and `ina bench forwarding` as child processes: the JSON shape of the
 * contract only (no assertions on how fast this machine is).
 */
import { describe, expect, it } from 'vitest';
import { ina, STACK_FRAME } from './helpers.js';
import { PROGRAM_NAMES } from '../../src/run/registry.js';

function parse(stdout: string): unknown {
  let v: unknown;
  expect(() => (v = JSON.parse(stdout)), `stdout is one JSON document:\n${stdout.slice(0, 400)}`).not.toThrow();
  return v;
}

const positive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;

describe('ina bench pipeline', () => {
  it('--packets 20000 --json - : one entry per program (every known program, l3 and ecmp among them), mpps > 0', async () => {
    const res = await ina(['bench', 'pipeline', '--packets', '20000', '--json', '-']);
    expect(res.code, res.stderr).toBe(0);
    const v = parse(res.stdout);
    const entries = (Array.isArray(v) ? v : [v]) as Array<Record<string, unknown>>;
    const programs = entries.map((e) => String(e.program));
    // every program is measured once: exactly the registry's list, the contract's l3 and ecmp included
    expect([...programs].sort()).toEqual([...PROGRAM_NAMES].sort());
    expect(programs).toContain('l3');
    expect(programs).toContain('ecmp');
    for (const e of entries) {
      expect(e.bench).toBe('pipeline');
      expect(positive(e.mpps), `${String(e.program)} mpps ${String(e.mpps)}`).toBe(true);
    }
    // the human lines go to stderr, never into the JSON on stdout
    expect(res.stderr).toMatch(/pipeline l3: .* Mpps/);
    expect(res.stderr).not.toMatch(STACK_FRAME);
  }, 60_000);

  it('a bad --packets exits 2', async () => {
    const res = await ina(['bench', 'pipeline', '--packets', 'abc', '--json', '-']);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).not.toMatch(STACK_FRAME);
  }, 60_000);
});

describe('ina bench forwarding', () => {
  it('--seconds 0.3 --json - : bench forwarding, 1088-byte frames, relay and switch kpps > 0, ratio > 0', async () => {
    const res = await ina(['bench', 'forwarding', '--seconds', '0.3', '--json', '-'], { timeoutMs: 58_000 });
    expect(res.code, res.stderr).toBe(0);
    const r = parse(res.stdout) as Record<string, unknown>;
    expect(r.bench).toBe('forwarding');
    expect(r.frameBytes).toBe(1088);
    for (const k of ['relayKpps', 'switchKpps', 'ratio']) expect(positive(r[k]), `${k} = ${String(r[k])}`).toBe(true);
    expect(r.ratio).toBeCloseTo((r.switchKpps as number) / (r.relayKpps as number), 1);
    expect(res.stderr).toMatch(/forwarding: relay/);
  }, 60_000);
});

describe('ina bench: bad durations', () => {
  it('forwarding --seconds -1 exits 2 (not a report of negative kpps)', async () => {
    const res = await ina(['bench', 'forwarding', '--seconds', '-1', '--json', '-']);
    expect(res.code, res.stdout).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/--seconds/);
  }, 60_000);
});
