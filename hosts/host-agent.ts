import type { HostStack } from '../src/run/host-stack.js';
import type { Timer } from '../src/net/clock.js';
import { HEADER_BYTES, writeFrameHeader, type FrameInit } from '../src/wire/common-header.js';

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

function allocFrame(bytes: number): Uint8Array {
  if (bytes > SLAB_MAX_FRAME) return new Uint8Array(bytes);
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const b = new Uint8Array(slab, slabUsed, bytes);
  slabUsed += (bytes + 7) & ~7; // 8-byte aligned, so a Float64Array/DataView-friendly offset
  return b;
}

/**
 * The base of every agent on a host: binds one protocol on the host's stack, sends frames
 * stamped with the host's clock, and keeps its timers so stop() leaves nothing behind.
 */
export class HostAgent {
  private unbind: (() => void) | null = null;
  private readonly timers = new Set<Timer>();

  constructor(readonly host: HostStack, readonly protocol: number) {}

  start(onFrame: (frame: Uint8Array) => void): void {
    this.unbind = this.host.bind(this.protocol, onFrame);
  }

  stop(): void {
    this.unbind?.();
    this.unbind = null;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  get now(): number {
    return this.host.clock.now();
  }

  /** A frame from this host with room for `payloadLength` bytes, timestamped now. */
  frame(init: Omit<FrameInit, 'protocol' | 'src'>, payloadLength: number): Uint8Array {
    const b = allocFrame(HEADER_BYTES + payloadLength);
    writeFrameHeader(b, init, this.protocol, this.host.address, init.timestamp ?? this.now, payloadLength);
    return b;
  }

  send(frame: Uint8Array): void {
    this.host.send(frame);
  }

  after(delayNs: number, fn: () => void): Timer {
    const t = this.host.clock.setTimer(delayNs, () => {
      this.timers.delete(t);
      fn();
    });
    this.timers.add(t);
    return t;
  }
}
