/**
 * Frames are carved out of shared slabs (as Node's Buffer pool does), not one ArrayBuffer each:
 * a frame of its own is a malloc'd, zeroed backing store that V8 frees on a background thread,
 * which per packet costs more than the packet's JS work and contends with the event loop for
 * the allocator. Each frame is still its own bytes (never reused: a slab lives while any frame
 * in it does), a zero-filled Uint8Array view; a frame's byteOffset is not 0, so whoever wraps
 * its bytes must pass byteOffset/byteLength (as everything here does).
 */
const SLAB_BYTES = 64 * 1024;
const SLAB_MAX_FRAME = SLAB_BYTES / 8;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

export function allocFrame(bytes: number): Uint8Array {
  if (bytes > SLAB_MAX_FRAME) return new Uint8Array(bytes);
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const b = new Uint8Array(slab, slabUsed, bytes);
  slabUsed += (bytes + 7) & ~7; // 8-byte aligned, so a Float64Array/DataView-friendly offset
  return b;
}

