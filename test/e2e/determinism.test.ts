/**
 * Virtual time is deterministic: the same scenario and seed give a byte-identical report, and
 * the seed is what the randomness (loss, jitter, hashing) follows.
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/runner.js';
import type { Report } from '../../src/report/types.js';
import { pingallScenario } from './helpers.js';

const LS = { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 };
const IMPAIRED = { lossRate: 0.2, delayUs: 3, jitterUs: 4, reorderRate: 0.1 };

/** the report with its `seed` field blanked, so that only what the seed caused can differ */
const withoutSeed = (r: Report): string => JSON.stringify({ ...r, seed: 0 });

describe('determinism in sim mode', () => {
  it('same scenario, same seed, twice: byte-identical JSON', async () => {
    const s = pingallScenario('det', LS, { seed: 42, count: 4, links: IMPAIRED });
    const a = JSON.stringify(await runScenario(s));
    const b = JSON.stringify(await runScenario(s));
    expect(b).toBe(a);
    // and it is a run where randomness mattered
    const r = JSON.parse(a) as Report;
    expect(r.links.some((l) => l.lost.ab + l.lost.ba > 0)).toBe(true);
  });

  it('lossless fat-tree twice: byte-identical JSON', async () => {
    const s = pingallScenario('det-ft', { kind: 'fat-tree', k: 4 }, { count: 2, links: { delayUs: 1, jitterUs: 2 } });
    expect(JSON.stringify(await runScenario(s))).toBe(JSON.stringify(await runScenario(s)));
  });

  it('the seed given in options equals the same seed written in the scenario', async () => {
    const inFile = await runScenario(pingallScenario('det', LS, { seed: 7, count: 3, links: IMPAIRED }));
    const overridden = await runScenario(pingallScenario('det', LS, { seed: 1, count: 3, links: IMPAIRED }), { seed: 7 });
    expect(overridden.seed).toBe(7);
    expect(JSON.stringify(overridden)).toBe(JSON.stringify(inFile));
  });

  it('a different seed with loss gives a different report (beyond the seed field)', async () => {
    const s = pingallScenario('det', LS, { seed: 1, count: 4, links: IMPAIRED });
    const one = await runScenario(s);
    const two = await runScenario(s, { seed: 2 });
    expect(one.seed).toBe(1);
    expect(two.seed).toBe(2);
    expect(withoutSeed(two)).not.toBe(withoutSeed(one));
    // what differs is what the seed drives: the links' fates
    expect(JSON.stringify(two.links)).not.toBe(JSON.stringify(one.links));
    for (const r of [one, two]) expect(r.runs[0]).toMatchObject({ correct: true });
  });
});
