// Allocation-free big-endian accessors over a Uint8Array. The hot path uses these with
// offsets derived once from a buffer-layout declaration, never a DataView per frame.

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readU8(b: Uint8Array, o: number): number {
  return b[o]!;
}
export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
export function readI32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}
export function writeU8(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
}
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
export const writeI32 = writeU32;

export function readF64(b: Uint8Array, o: number): number {
  if (LITTLE) for (let i = 0; i < 8; i++) f64b[7 - i] = b[o + i]!;
  else for (let i = 0; i < 8; i++) f64b[i] = b[o + i]!;
  return f64[0]!;
}
export function writeF64(b: Uint8Array, o: number, v: number): void {
  f64[0] = v;
  if (LITTLE) for (let i = 0; i < 8; i++) b[o + i] = f64b[7 - i]!;
  else for (let i = 0; i < 8; i++) b[o + i] = f64b[i]!;
}
export function readF32(b: Uint8Array, o: number): number {
  if (LITTLE) for (let i = 0; i < 4; i++) f32b[3 - i] = b[o + i]!;
  else for (let i = 0; i < 4; i++) f32b[i] = b[o + i]!;
  return f32[0]!;
}
export function writeF32(b: Uint8Array, o: number, v: number): void {
  f32[0] = v;
  if (LITTLE) for (let i = 0; i < 4; i++) b[o + i] = f32b[3 - i]!;
  else for (let i = 0; i < 4; i++) b[o + i] = f32b[i]!;
}

/** buffer-layout works on Node Buffers; this views the same bytes without copying. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
