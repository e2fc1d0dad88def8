/**
 * Loading programs and workloads by name. Concurrent callers (the workloads of a `group`) must
 * share one load and resume in the order they asked: two import() calls of one module resolve
 * in whatever order the loader answers, which once made a grouped sim scenario's report differ
 * between runs (the second job sometimes took the aggregator slots first).
 */
import { describe, expect, it } from 'vitest';
import { loadProgram, loadWorkload, sharedLoads } from '../../src/run/registry.js';

/**
 * A loader that answers out of order, as the module loader may: each call's answer comes after
 * fewer macrotask turns than the previous call's, so the last asked is answered first.
 */
function outOfOrderLoader(): { load: (name: string) => Promise<string>; calls: string[] } {
  const calls: string[] = [];
  const load = (name: string): Promise<string> => {
    calls.push(name);
    const turns = 4 - calls.length;
    return new Promise((resolve) => {
      const step = (left: number): void => void (left === 0 ? resolve(`${name}#${calls.length}`) : setTimeout(() => step(left - 1), 0));
      step(turns);
    });
  };
  return { load, calls };
}

describe('registry', () => {
  it('concurrent loads of one name share one load, so callers resume in the order they asked even when loads answer out of order', async () => {
    const { load, calls } = outOfOrderLoader();
    const byName = sharedLoads(load);
    const order: number[] = [];
    const values = await Promise.all([1, 2, 3].map((i) => byName('flows').then((v) => (order.push(i), v))));
    // one load, one module: every caller got the same value
    expect(calls).toEqual(['flows']);
    expect(new Set(values).size).toBe(1);
    // separate loads would have answered the third caller first
    expect(order).toEqual([1, 2, 3]);
  });

  it('the loader out of order really answers later callers first (what the test above guards against)', async () => {
    const { load } = outOfOrderLoader();
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => load('flows').then(() => order.push(i))));
    expect(order).toEqual([3, 2, 1]);
  });

  it('loadWorkload and loadProgram share one promise per name', async () => {
    expect(loadWorkload('flows')).toBe(loadWorkload('flows'));
    expect(loadProgram('drill')).toBe(loadProgram('drill'));
    expect(await loadWorkload('flows')).toBe(await loadWorkload('flows'));
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
