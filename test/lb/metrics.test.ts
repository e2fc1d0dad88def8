/**
 * The data and arithmetic behind the flows report: the published CDFs, inverse-transform
 * sampling, the ideal FCT, slowdowns and bins, and the balls-into-bins expectation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATAMINING_CDF, WEBSEARCH_CDF, meanOfCdf, sampleCdf } from '../../hosts/flows/flow-size-distributions.js';
import { ballsIntoBinsImbalance, binOf, idealFctNs, slowdown, summarize } from '../../hosts/flows/flow-metrics.js';
import { createRng } from '../../src/net/rng.js';
import { FLOW_MSS, FLOW_OFF_DATA, flowFrames } from '../../src/wire/flow.js';

describe('flow-size distributions', () => {
  for (const [name, cdf] of [['websearch', WEBSEARCH_CDF], ['datamining', DATAMINING_CDF]] as const) {
    it(`${name}: a CDF from 0 to 1, non-decreasing in size and probability`, () => {
      expect(cdf[0]![1]).toBe(0);
      expect(cdf[cdf.length - 1]![1]).toBe(1);
      for (let i = 1; i < cdf.length; i++) {
        expect(cdf[i]![0]).toBeGreaterThan(cdf[i - 1]![0]);
        expect(cdf[i]![1]).toBeGreaterThanOrEqual(cdf[i - 1]![1]);
      }
    });

    it(`${name}: sampling reproduces the table (each point's probability within 1 %) and its mean`, () => {
      const rng = createRng(1).fork(name);
      const n = 200_000;
      const xs = Array.from({ length: n }, () => sampleCdf(cdf, rng.next()));
      for (const [size, p] of cdf) {
        const below = xs.filter((x) => x <= size).length / n;
        expect(Math.abs(below - p), `P(size <= ${size})`).toBeLessThan(0.01);
      }
      const mean = xs.reduce((s, x) => s + x, 0) / n;
      // heavy tails: the sample mean of 200k draws is within a few % of the table's mean
      expect(Math.abs(mean / meanOfCdf(cdf) - 1)).toBeLessThan(name === 'datamining' ? 0.15 : 0.03);
    });
  }

  it('the published shapes: web search is mostly mice by count, data mining far more so', () => {
    expect(sampleCdf(WEBSEARCH_CDF, 0.5)).toBeGreaterThan(50_000);
    expect(sampleCdf(WEBSEARCH_CDF, 0.5)).toBeLessThan(100_000);
    expect(sampleCdf(DATAMINING_CDF, 0.5)).toBeLessThan(1_100);
    expect(sampleCdf(DATAMINING_CDF, 0.8)).toBe(10_000);
    expect(meanOfCdf(WEBSEARCH_CDF)).toBeCloseTo(1_711_250, -2);
  });

  it('sampling is monotone in u and never below 1 byte', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        for (const cdf of [WEBSEARCH_CDF, DATAMINING_CDF]) {
          expect(sampleCdf(cdf, lo)).toBeLessThanOrEqual(sampleCdf(cdf, hi));
          expect(sampleCdf(cdf, lo)).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });
});

describe('ideal FCT and slowdown', () => {
  it('one frame: store-and-forward over every hop plus propagation', () => {
    const hops = [{ rateGbps: 10, delayUs: 1 }, { rateGbps: 10, delayUs: 2 }];
    const frame = FLOW_OFF_DATA + 500;
    expect(idealFctNs(500, hops)).toBeCloseTo(2 * (frame * 8) / 10 + 3000, 6);
  });

  it('many frames: the rest follow at the bottleneck rate', () => {
    const size = 10 * FLOW_MSS;
    const hops = [{ rateGbps: 10, delayUs: 0 }, { rateGbps: 2.5, delayUs: 0 }, { rateGbps: 10, delayUs: 0 }];
    const frame = FLOW_OFF_DATA + FLOW_MSS;
    const expected = frame * 8 * (1 / 10 + 1 / 2.5 + 1 / 10) + (flowFrames(size) - 1) * frame * 8 / 2.5;
    expect(idealFctNs(size, hops)).toBeCloseTo(expected, 6);
  });

  it('slowdown is at least 1, and 1 when the ideal is 0 (unshaped, no delay)', () => {
    expect(slowdown(50, 100)).toBe(1);
    expect(slowdown(300, 100)).toBe(3);
    expect(slowdown(300, 0)).toBe(1);
  });

  it('bins by the drawn size; summaries by nearest rank', () => {
    expect([binOf(99_999), binOf(100_000), binOf(999_999), binOf(1_000_000)]).toEqual(['<100KB', '100KB-1MB', '100KB-1MB', '>1MB']);
    expect(summarize([1, 2, 3, 4, 100])).toEqual({ mean: 22, p50: 3, p95: 100, p99: 100 });
  });
});

describe('balls into bins', () => {
  it('exact small cases', () => {
    expect(ballsIntoBinsImbalance(1, 4)).toBeCloseTo(4, 10); // one ball: max 1, mean 1/4
    expect(ballsIntoBinsImbalance(2, 2)).toBeCloseTo(1.5, 10); // max 1 or 2, equally likely
    expect(ballsIntoBinsImbalance(5, 1)).toBe(1);
  });

  it('agrees with a Monte Carlo estimate', () => {
    const rng = createRng(3);
    for (const [F, P] of [[8, 4], [16, 4], [12, 3], [32, 8]] as const) {
      let s = 0;
      const n = 40_000;
      for (let k = 0; k < n; k++) {
        const bins = new Array<number>(P).fill(0);
        for (let f = 0; f < F; f++) bins[rng.int(P)]!++;
        s += Math.max(...bins) / (F / P);
      }
      expect(Math.abs(s / n / ballsIntoBinsImbalance(F, P) - 1), `F=${F} P=${P}`).toBeLessThan(0.01);
    }
  });
});
