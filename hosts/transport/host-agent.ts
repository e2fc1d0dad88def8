import type { HostStack } from '../../src/host/host-stack.js';
import type { Timer } from '../../src/net/clock.js';
import { HEADER_BYTES, writeFrameHeader, type FrameInit } from '../../src/wire/common-header.js';
import { allocFrame } from '../../src/wire/frame-slab.js';

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
