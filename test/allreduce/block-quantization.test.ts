/**
 * The float32 path's per-element loops (hosts/allreduce/block-quantization.ts) against the plain versions
 * they replace (Math.round, clamp, byte-wise big-endian reads and writes): bit-identical frames
 * and results, on edge values and on arbitrary ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeBlock, quantizeBlock, roundHalfUp } from '../../hosts/allreduce/block-quantization.js';
import { readI32, writeI32 } from '../../src/wire/bytes.js';

const OFF = 48;

function quantizeReference(f: Uint8Array, o: number, x: Float32Array, from: number, n: number, scale: number, k: number): void {
  for (let i = 0; i < n; i++, o += 4) {
    let q = Math.round(x[from + i]! * scale);
    if (q > k) q = k;
    else if (q < -k) q = -k;
    writeI32(f, o, q);
  }
}

const EDGES = [
  0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 0.5000000000000001, -0.5000000000000001,
  1 - 2 ** -53, -(1 - 2 ** -53), 2 ** 52 - 0.5, -(2 ** 52 - 0.5), 2 ** 51 + 0.5, -(2 ** 51 + 0.5), 2 ** 31 - 0.5, -(2 ** 31 - 0.5),
  Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** -1074, 1e-300, -1e-300,
];

describe('block quantization', () => {
  it('roundHalfUp is Math.round on edge values and on any |v| < 2^52 (as an int32)', () => {
    for (const v of EDGES) expect(roundHalfUp(v) === Math.round(v), `${v}`).toBe(true);
    fc.assert(
      fc.property(fc.double({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1, noNaN: true }), (v) => roundHalfUp(v) === Math.round(v)),
      { numRuns: 20000 },
    );
    // halves and their neighbours, where rounding direction matters
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.integer({ min: -2, max: 2 }), (i, d) => {
        let v = i + 0.5;
        for (let s = 0; s < Math.abs(d); s++) v = d > 0 ? nextUp(v) : nextDown(v);
        return roundHalfUp(v) === Math.round(v);
      }),
      { numRuns: 20000 },
    );
    expect(Number.isNaN(roundHalfUp(NaN))).toBe(true);
  });

  it('quantizeBlock writes the same bytes as Math.round, clamp and writeI32', () => {
    const k = Math.floor(2147483647 / 8);
    const specials = new Float32Array([0, -0, 1, -1, 2 ** 127, -(2 ** 127), 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 2 ** -126, 2 ** -149, 6.5e4, -6.5e4]);
    for (const e of [-126, -10, 0, 1, 16, 17, 127]) {
      const scale = k * 2 ** -e;
      const a = new Uint8Array(OFF + 4 * specials.length);
      const b = new Uint8Array(OFF + 4 * specials.length);
      quantizeBlock(a, OFF, specials, 0, specials.length, scale, k);
      quantizeReference(b, OFF, specials, 0, specials.length, scale, k);
      expect(a).toEqual(b);
    }
    fc.assert(
      fc.property(
        fc.array(fc.float({ noDefaultInfinity: false }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: -126, max: 127 }),
        fc.integer({ min: 2, max: 64 }),
        (xs, e, workers) => {
          const x = Float32Array.from(xs);
          const k = Math.floor(2147483647 / workers);
          const scale = k * 2 ** -e;
          const from = xs.length > 3 ? 2 : 0;
          const n = x.length - from;
          const a = new Uint8Array(OFF + 4 * n);
          const b = new Uint8Array(OFF + 4 * n);
          quantizeBlock(a, OFF, x, from, n, scale, k);
          quantizeReference(b, OFF, x, from, n, scale, k);
          expect(a).toEqual(b);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('dequantizeBlock reads the same values as readI32, whether the frame fits the scratch or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 0, maxLength: 64 }),
        fc.integer({ min: -126, max: 127 }),
        fc.integer({ min: -8, max: 8 }),
        (qs, e, extra) => {
          const n = qs.length;
          const f = new Uint8Array(Math.max(0, OFF + 4 * n + extra));
          for (let i = 0; i < n; i++) if (OFF + 4 * i + 4 <= f.length) writeI32(f, OFF + 4 * i, qs[i]!);
          const inv = 2 ** e / Math.floor(2147483647 / 8);
          const scratch = new Uint8Array(OFF + 4 * 64);
          scratch.fill(0xa5);
          const view = new DataView(scratch.buffer);
          const got = new Float32Array(n + 3);
          const want = new Float32Array(n + 3);
          dequantizeBlock(f, OFF, got, 3, n, inv, scratch, view);
          for (let i = 0, o = OFF; i < n; i++, o += 4) want[3 + i] = readI32(f, o) * inv;
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

function nextUp(v: number): number {
  const b = new Float64Array([v]);
  const u = new BigInt64Array(b.buffer);
  if (v === 0) return Number.MIN_VALUE;
  u[0] = v > 0 ? u[0]! + 1n : u[0]! - 1n;
  return b[0]!;
}

function nextDown(v: number): number {
  return -nextUp(-v);
}
