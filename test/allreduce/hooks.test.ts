/**
 * Test hooks are options of a run (RunOptions.hooks), not module globals: runs side by side
 * each see their own hooks, and a run given none is left alone.
 */
import { describe, expect, it } from 'vitest';
import { SHARP_HOOKS } from '../../hosts/allreduce/sharp-client.js';
import { SWITCHML_HOOKS } from '../../hosts/allreduce/switchml-client.js';
import { RunHooks } from '../../src/run/hooks.js';
import { runScenario } from '../../src/run/runner.js';
import { aggregationScenario, allreduceRuns } from './helpers.js';

const small = (algorithm: 'switchml' | 'sharp') =>
  aggregationScenario(algorithm, { topology: { kind: 'star', hosts: 3 }, links: { lossRate: 0.05 }, slots: 16, workloads: [{ bytes: 4096, dtype: 'int32', iterations: 2 }] });

describe('hooks passed to a run', () => {
  it('concurrent runs each call their own hooks; a run without hooks calls none', async () => {
    const seen = { a: [] as string[], b: [] as string[], sharp: [] as string[] };
    const a = new RunHooks().with(SWITCHML_HOOKS, { onCallComplete: (_p, _f, it) => void seen.a.push(`call ${it}`), onRelease: () => void seen.a.push('release') });
    // a tuning override reaches only its own run: with no retransmission allowed, a lossy run fails
    const b = new RunHooks()
      .with(SWITCHML_HOOKS, { tuning: { maxRetries: 0 }, onAllocate: () => void seen.b.push('allocate') })
      .with(SHARP_HOOKS, { onAllocate: () => void seen.sharp.push('allocate') });
    const [ra, rb, rn] = await Promise.all([runScenario(small('switchml'), { hooks: a }), runScenario(small('switchml'), { hooks: b }), runScenario(small('switchml'))]);
    expect(allreduceRuns(ra)[0]).toMatchObject({ correct: true });
    expect(allreduceRuns(rn)[0]).toMatchObject({ correct: true });
    expect(allreduceRuns(rb)[0]).toMatchObject({ correct: false, error: expect.stringMatching(/after 0 retransmissions/) });
    expect(seen.a).toEqual(['call 0', 'call 1', 'release']);
    expect(seen.b).toEqual(['allocate']);
    // the sharp client's hooks are read by sharp jobs only
    expect(seen.sharp).toEqual([]);
    await runScenario(small('sharp'), { hooks: b });
    expect(seen.sharp).toEqual(['allocate']);
    expect(seen.b).toEqual(['allocate']);
  });
});
