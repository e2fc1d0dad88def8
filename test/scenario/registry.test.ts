/**
 * Loading programs and workloads by name. Concurrent callers (the workloads of a `group`) must
 * share one load and resume in the order they asked: two import() calls of one module resolve
 * in whatever order the loader answers, which once made a grouped sim scenario's report differ
 * between runs (the second job sometimes took the aggregator slots first).
 */
import { describe, expect, it } from 'vitest';
import { loadProgram, loadWorkload } from '../../src/run/registry.js';

describe('registry', () => {
  it('concurrent loads of one name share one promise, and resume in the order they were asked', async () => {
    for (const [a, b] of [
      [loadWorkload('flows'), loadWorkload('flows')],
      [loadProgram('drill'), loadProgram('drill')],
    ] as const) {
      expect(a).toBe(b);
      const order: number[] = [];
      await Promise.all([a.then(() => order.push(1)), b.then(() => order.push(2))]);
      expect(order).toEqual([1, 2]);
    }
  });

  it('an unknown name is refused, and not remembered as loaded', async () => {
    await expect(loadWorkload('nope')).rejects.toThrow(/unknown workload nope \(known: /);
    await expect(loadProgram('nope')).rejects.toThrow(/unknown switch program nope \(known: /);
    const first = loadWorkload('nope');
    await first.catch(() => {});
    const again = loadWorkload('nope');
    expect(again).not.toBe(first);
    await expect(again).rejects.toThrow(/unknown workload nope/);
  });
});
