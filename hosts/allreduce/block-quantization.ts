import { readI32, writeI32 } from '../../src/wire/bytes.js';

/**
 * The per-element loops of the float32 (block floating point) path of hosts/allreduce/aggregation-client.ts,
 * kept monomorphic (Float32Array in, big-endian int32 frames out) and allocation-free.
 */

/** The largest double below 1/2: the one value where floor(v + 1/2) is not Math.round(v). */
const BELOW_HALF = 0.49999999999999994;

/**
 * Exactly Math.round(v) for every |v| < 2^52 except ±0 (returns +0 where Math.round gives -0,
 * which is the same int32), and NaN for NaN: round half up is floor(v + 1/2), and v + 1/2 is
 * exact in float64 (so its floor is right) except when it rounds up across a power of two,
 * which for |v| < 2^52 happens only at v = 0.5 - 2^-54 (v + 1/2 rounds to 1; Math.round gives 0).
 * Above 2^52 the two may differ by 1 (ties to even in v + 1/2), but the callers clamp to
 * |q| <= k < 2^31, where both give the same value. Why: V8 lowers Math.round to a ceil and a
 * data-dependent select that mispredicts about half the time on gradient data; floor and a
 * (practically) never-taken compare do not.
 */
export function roundHalfUp(v: number): number {
  const q = Math.floor(v + 0.5);
  return v === BELOW_HALF ? 0 : q;
}

/**
 * Writes round(x[from + i] · scale) clamped to [-k, k], i < n, as big-endian int32 at f[o + 4i]:
 * bit-identical to `writeI32(f, o + 4i, clamp(Math.round(x[from + i] · scale)))`.
 */
export function quantizeBlock(f: Uint8Array, o: number, x: Float32Array, from: number, n: number, scale: number, k: number): void {
  const end = from + n;
  for (let i = from; i < end; i++, o += 4) {
    const v = x[i]! * scale;
    let q = Math.floor(v + 0.5);
    if (v === BELOW_HALF) q = 0;
    // only a value above 2^127 (outside the scheme) could pass k
    if (q > k) q = k;
    else if (q < -k) q = -k;
    // an int32 (NaN becomes 0, as writeI32 would make it): the byte stores take it as is
    writeI32(f, o, q | 0);
  }
}

/**
 * Reads n big-endian int32 at f[o + 4i] into out[from + i] = value · inv (then float32's rounding).
 * `scratch` (with its DataView `view`) is a per-job buffer of at least a full frame: a frame that
 * fits is copied there whole and read through the DataView (one memcpy and native byte swaps,
 * several times faster than byte-wise reads), anything else byte-wise; both read the same values.
 */
export function dequantizeBlock(f: Uint8Array, o: number, out: Float32Array, from: number, n: number, inv: number, scratch: Uint8Array, view: DataView): void {
  const end = from + n;
  if (f.length <= scratch.length && f.length >= o + 4 * n) {
    scratch.set(f);
    for (let i = from; i < end; i++, o += 4) out[i] = view.getInt32(o) * inv;
  } else {
    for (let i = from; i < end; i++, o += 4) out[i] = readI32(f, o) * inv;
  }
}
