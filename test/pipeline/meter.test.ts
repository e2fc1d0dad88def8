import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GREEN, Meter, type MeterConfig, type MeterUnit, RED, YELLOW } from '../../src/pipeline/externs/meter.js';
import { TableError } from '../../src/pipeline/match-types.js';

/**
 * RFC 2698 section 3, colour-blind, in exact rational arithmetic: token counts are kept in
 * units of 1/1e9 token as BigInts, so the model has no rounding at all.
 */
class RefTrTcm {
  private tc: bigint;
  private tp: bigint;
  private last: bigint | null = null;
  private readonly cir: bigint;
  private readonly pir: bigint;
  private readonly cbs: bigint;
  private readonly pbs: bigint;

  constructor(c: MeterConfig, private readonly unit: MeterUnit) {
    const G = 1_000_000_000n;
    this.cir = BigInt(c.cir);
    this.pir = BigInt(c.pir);
    this.cbs = BigInt(c.cburst) * G;
    this.pbs = BigInt(c.pburst) * G;
    this.tc = this.cbs; // "initially (at time 0) full"
    this.tp = this.pbs;
  }

  arrive(bytes: number, t: number): number {
    const now = BigInt(t);
    if (this.last !== null && now > this.last) {
      const dt = now - this.last;
      // "Tc is incremented by one CIR times per second up to CBS"
      const tc = this.tc + this.cir * dt;
      const tp = this.tp + this.pir * dt;
      this.tc = tc < this.cbs ? tc : this.cbs;
      this.tp = tp < this.pbs ? tp : this.pbs;
    }
    if (this.last === null || now > this.last) this.last = now;
    const b = BigInt(this.unit === 'packets' ? 1 : bytes) * 1_000_000_000n;
    if (this.tp < b) return RED;
    if (this.tc < b) {
      this.tp -= b;
      return YELLOW;
    }
    this.tp -= b;
    this.tc -= b;
    return GREEN;
  }
}

const configArb = (unit: MeterUnit): fc.Arbitrary<MeterConfig> => {
  const rate = unit === 'bytes' ? fc.integer({ min: 0, max: 2_000_000 }) : fc.integer({ min: 0, max: 20_000 });
  // RFC 2698 requires both bursts > 0 (a 0 is refused: test/pipeline/p4runtime-rules.test.ts)
  const burst = unit === 'bytes' ? fc.integer({ min: 1, max: 6000 }) : fc.integer({ min: 1, max: 10 });
  return fc.record({ cir: rate, extra: rate, cburst: burst, pburst: burst }).map(({ cir, extra, cburst, pburst }) => ({ cir, pir: cir + extra, cburst, pburst }));
};

const trainArb = fc.array(
  fc.record({ gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 0, max: 5_000_000 })), bytes: fc.integer({ min: 1, max: 1500 }) }),
  { minLength: 1, maxLength: 200 },
);

describe('Meter (RFC 2698 trTCM, colour-blind)', () => {
  for (const unit of ['bytes', 'packets'] as const) {
    it(`colours generated packet trains exactly as the RFC model (${unit})`, () => {
      const seen = new Set<number>();
      fc.assert(
        fc.property(configArb(unit), trainArb, fc.integer({ min: 0, max: 2 ** 40 }), (config, train, t0) => {
          const m = new Meter('m', 3, unit);
          m.configure(1, config);
          const ref = new RefTrTcm(config, unit);
          let t = t0;
          for (const { gap, bytes } of train) {
            t += gap;
            const want = ref.arrive(bytes, t);
            expect(m.execute(1, bytes, t)).toBe(want);
            seen.add(want);
          }
        }),
        { numRuns: 200 },
      );
      expect([...seen].sort()).toEqual([GREEN, YELLOW, RED]); // the trains exercise every colour
    });
  }

  it('never passes more than burst + rate x time as green, nor as non-red', () => {
    fc.assert(
      fc.property(configArb('bytes'), trainArb, (config, train) => {
        const m = new Meter('m', 1);
        m.configure(0, config);
        let t = 0;
        let green = 0;
        let notRed = 0;
        for (const { gap, bytes } of train) {
          t += gap;
          const c = m.execute(0, bytes, t);
          if (c === GREEN) green += bytes;
          if (c !== RED) notRed += bytes;
        }
        expect(green).toBeLessThanOrEqual(config.cburst + (config.cir * t) / 1e9 + 1e-6);
        expect(notRed).toBeLessThanOrEqual(config.pburst + (config.pir * t) / 1e9 + 1e-6);
      }),
    );
  });

  it('unconfigured indexes are green; a clock stepping back adds no tokens', () => {
    const m = new Meter('police', 4);
    expect(m.execute(2, 1500, 0)).toBe(GREEN);
    m.configure(2, { cir: 1000, cburst: 1500, pir: 2000, pburst: 3000 });
    expect(m.config(2)).toEqual({ cir: 1000, cburst: 1500, pir: 2000, pburst: 3000 });
    const ref = new RefTrTcm({ cir: 1000, cburst: 1500, pir: 2000, pburst: 3000 }, 'bytes');
    for (const [bytes, t] of [[1500, 1e9], [1500, 5e8], [1500, 1e9], [100, 2e9]] as const) {
      expect(m.execute(2, bytes, t)).toBe(ref.arrive(bytes, t));
    }
    m.unconfigure(2);
    expect(m.execute(2, 1e6, 3e9)).toBe(GREEN);
    expect(m.config(2)).toBeUndefined();
  });

  it('refuses pir < cir and negative values, naming the meter; bad index is a RangeError', () => {
    const m = new Meter('police', 4);
    const bad = [
      { cir: 2000, cburst: 1, pir: 1000, pburst: 1 },
      { cir: -1, cburst: 1, pir: 1000, pburst: 1 },
      { cir: 1, cburst: Number.NaN, pir: 1000, pburst: 1 },
    ];
    for (const c of bad) {
      let err: unknown;
      try {
        m.configure(0, c);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TableError);
      expect((err as TableError).code).toBe('INVALID_ARGUMENT');
      expect((err as TableError).message).toMatch(/^meter police: /);
    }
    expect(() => m.execute(4, 1, 0)).toThrow(/meter police: index 4/);
  });
});
