import { createRng } from '../../src/net/rng.js';

export type Dtype = 'float32' | 'int32';
export type Tensor = Float32Array | Int32Array;

export const INT32_MAX = 2147483647;
/** float32 unit roundoff */
export const F32_EPS = 2 ** -24;

/**
 * A worker's gradient, deterministic from (seed, rank): mostly values spread over six decades,
 * with zeros and per-dtype extremes mixed in, since the edges are where aggregation breaks.
 * int32 values are bounded by INT32_MAX / workers so that the exact sum fits in 32 bits.
 */
export function makeTensor(dtype: Dtype, length: number, seed: number, rank: number, workers: number): Tensor {
  const rng = createRng(seed).fork(`tensor:${rank}`);
  if (dtype === 'int32') {
    const t = new Int32Array(length);
    const lim = Math.floor(INT32_MAX / workers);
    for (let i = 0; i < length; i++) {
      const u = rng.next();
      if (u < 0.05) t[i] = 0;
      else if (u < 0.06) t[i] = rng.next() < 0.5 ? lim : -lim;
      else t[i] = Math.floor((rng.next() * 2 - 1) * Math.min(lim, 1 << (1 + rng.int(30))));
    }
    return t;
  }
  const t = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = rng.next();
    if (u < 0.05) t[i] = 0;
    else if (u < 0.06) t[i] = (rng.next() < 0.5 ? -1 : 1) * 6.5e4;
    else t[i] = (rng.next() < 0.5 ? -1 : 1) * rng.next() * 10 ** (rng.next() * 6 - 4);
  }
  return t;
}

/** The float64 sum in rank order (float32), or the exact wrapped 32-bit sum (int32). */
export function referenceSum(inputs: readonly Tensor[]): Float64Array {
  const n = inputs[0]!.length;
  const out = new Float64Array(n);
  if (inputs[0] instanceof Int32Array) {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (const t of inputs) acc = (acc + t[i]!) | 0;
      out[i] = acc;
    }
  } else {
    for (const t of inputs) for (let i = 0; i < n; i++) out[i] = out[i]! + t[i]!;
  }
  return out;
}

/** Σ_r |x_r[i]|: what float summation error bounds scale with. */
export function absSum(inputs: readonly Tensor[]): Float64Array {
  const n = inputs[0]!.length;
  const out = new Float64Array(n);
  for (const t of inputs) for (let i = 0; i < n; i++) out[i] = out[i]! + Math.abs(t[i]!);
  return out;
}

/**
 * Per-element bound for a float32 sum of N terms in any fixed order (recursive summation:
 * |error| <= (N-1)·u·Σ|x|, plus u·|result| for the final rounding; taken as N·u·Σ|x|).
 */
export function float32SumBound(abs: Float64Array, workers: number): Float64Array {
  const out = new Float64Array(abs.length);
  for (let i = 0; i < abs.length; i++) out[i] = workers * F32_EPS * abs[i]! * 1.000001;
  return out;
}

/** Smallest e with max|x| <= 2^e over a block, clamped to float32's normal range. */
export function blockExponent(t: Tensor, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    const a = Math.abs(t[i]!);
    if (a > m) m = a;
  }
  if (m === 0) return -126;
  let e = Math.ceil(Math.log2(m));
  if (2 ** e < m) e++;
  return Math.max(-126, Math.min(127, e));
}

export interface Verdict {
  correct: boolean;
  maxAbsError: number;
  /** the largest per-element bound (0 for int32: exact) */
  errorBound: number;
  wrongElements: number;
}

/** Checks one worker's result against the reference: int32 exactly, float32 within bounds. */
export function verify(result: Tensor, ref: Float64Array, bound: Float64Array | null): Verdict {
  let maxAbsError = 0;
  let wrong = 0;
  let maxBound = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(result[i]! - ref[i]!);
    if (err > maxAbsError) maxAbsError = err;
    const b = bound ? bound[i]! : 0;
    if (b > maxBound) maxBound = b;
    if (!(err <= b)) wrong++;
  }
  return { correct: wrong === 0, maxAbsError, errorBound: maxBound, wrongElements: wrong };
}
