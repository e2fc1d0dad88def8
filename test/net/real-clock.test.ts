import { describe, expect, it } from 'vitest';
import { NS_PER_MS } from '../../src/net/clock.js';
import { RealClock } from '../../src/net/real-clock.js';

// Ordering and cancellation only: wall-clock speed is not something a test may assert.
describe('RealClock', () => {
  const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  it('is monotonic, starts near 0 and is in nanoseconds', async () => {
    const c = new RealClock();
    expect(c.kind).toBe('real');
    const a = c.now();
    expect(a).toBeGreaterThanOrEqual(0);
    await tick(5);
    const b = c.now();
    expect(b).toBeGreaterThan(a);
    expect(b).toBeGreaterThan(1 * NS_PER_MS); // 5 ms of sleep cannot read as under 1 ms
  });

  it('never runs a callback inside setTimer; delay <= 0 runs on the next loop turn', async () => {
    const c = new RealClock();
    const log: string[] = [];
    // (Not 1 ms: Node may run an expired 1 ms timeout before immediates on the first turn.)
    c.setTimer(10 * NS_PER_MS, () => log.push('timeout'));
    c.setTimer(0, () => log.push('immediate'));
    c.setTimer(-5, () => log.push('negative'));
    expect(log).toEqual([]);
    await tick(40);
    expect(log).toEqual(['immediate', 'negative', 'timeout']);
  });

  it('runs a sub-millisecond timer (clamped up to 1 ms by Node) no earlier than asked', async () => {
    const c = new RealClock();
    let at = -1;
    const t0 = c.now();
    c.setTimer(50_000, () => (at = c.now()));
    await tick(30);
    expect(at - t0).toBeGreaterThan(0);
  });

  it('cancel works for both kinds and is idempotent', async () => {
    const c = new RealClock();
    let n = 0;
    const a = c.setTimer(0, () => n++);
    const b = c.setTimer(2 * NS_PER_MS, () => n++);
    a.cancel();
    b.cancel();
    b.cancel();
    await tick(20);
    expect(n).toBe(0);
    a.cancel(); // after the fact: harmless
  });

  it('rejects NaN and absurdly long delays instead of firing in 1 ms', () => {
    const c = new RealClock();
    expect(() => c.setTimer(NaN, () => {})).toThrow(RangeError);
    expect(() => c.setTimer(Infinity, () => {})).toThrow(RangeError);
  });
});
