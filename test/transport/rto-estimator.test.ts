/**
 * The one RTO estimator (hosts/transport/rto-estimator.ts) serves the reliable stream and the
 * aggregation worker. The worker's RTO was srtt + max(G, 4·rttvar, srtt·margin), clamped to
 * [minRto, maxRto]; with rtoSrtts = 1 + margin the estimator must give that same number, bit for
 * bit, for any samples (sim reports depend on it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtoEstimator } from '../../hosts/transport/rto-estimator.js';

/** The aggregation worker's RFC 6298 smoothing as it was written before it used the estimator. */
function marginRto(samples: number[], o: { minRtoNs: number; maxRtoNs: number; granularityNs: number; margin: number }): number {
  let srtt = -1;
  let rttvar = 0;
  let rto = NaN;
  for (const r of samples) {
    if (srtt < 0) {
      srtt = r;
      rttvar = r / 2;
    } else {
      rttvar = 0.75 * rttvar + 0.25 * Math.abs(srtt - r);
      srtt = 0.875 * srtt + 0.125 * r;
    }
    rto = Math.min(o.maxRtoNs, Math.max(o.minRtoNs, srtt + Math.max(o.granularityNs, 4 * rttvar, srtt * o.margin)));
  }
  return rto;
}

describe('RtoEstimator', () => {
  it('property: with rtoSrtts = 1 + margin it gives the margin form of the RTO exactly (sim and real tunings)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom(
          { minRtoNs: 20_000, granularityNs: 0, margin: 0.25 },
          { minRtoNs: 10_000_000, granularityNs: 1_000_000, margin: 1.5 },
        ),
        fc.double({ min: 1, max: 1e10, noNaN: true }),
        (samples, t, extra) => {
          const maxRtoNs = t.minRtoNs + extra;
          const est = new RtoEstimator({ initialRtoNs: 1e6, minRtoNs: t.minRtoNs, maxRtoNs, granularityNs: t.granularityNs, rtoSrtts: 1 + t.margin, minReorderWindowNs: 0 });
          for (const r of samples) est.sample(r);
          expect(est.rto).toBe(marginRto(samples, { ...t, maxRtoNs }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('backOff doubles the RTO up to its cap', () => {
    const est = new RtoEstimator({ initialRtoNs: 300, minRtoNs: 100, maxRtoNs: 1000, granularityNs: 0, rtoSrtts: 2, minReorderWindowNs: 0 });
    est.backOff();
    expect(est.rto).toBe(600);
    est.backOff();
    expect(est.rto).toBe(1000);
  });
});
