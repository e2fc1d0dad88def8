import type { Clock } from './clock.js';
import type { FrameHandler, Port } from './port.js';

/**
 * What watches the frames crossing one port, in both directions, without changing their fate:
 * the seam where capture (a pcapng writer) and tracing plug in, as a wrapper of the port (as
 * smoltcp's phy/ tracer and pcap writer wrap a device), so neither the switch, the host nor
 * the link ever grows a flag for them.
 *
 * A tap sees the frame before its new owner does and must not keep or modify it: copy what it
 * wants to keep (Port's ownership rule: whoever is handed a frame may rewrite it).
 */
export interface PortTap {
  /** a frame handed to the port at time `atNs` (for a link's transport port: its delivery) */
  sent?(port: string, frame: Uint8Array, atNs: number): void;
  /** a frame that arrived on the port at time `atNs`, before its receiver gets it */
  received?(port: string, frame: Uint8Array, atNs: number): void;
  /** the port closed */
  closed?(port: string): void;
}

/** A port with a tap on it: every frame in and out is shown to the tap, then passed on unchanged. */
export class TappedPort implements Port {
  readonly name: string;

  constructor(
    private readonly inner: Port,
    private readonly tap: PortTap,
    private readonly clock: Clock,
  ) {
    this.name = inner.name;
  }

  send(frame: Uint8Array): void {
    this.tap.sent?.(this.name, frame, this.clock.now());
    this.inner.send(frame);
  }

  onReceive(handler: FrameHandler): void {
    const tap = this.tap;
    if (!tap.received) {
      this.inner.onReceive(handler);
      return;
    }
    this.inner.onReceive((frame) => {
      tap.received!(this.name, frame, this.clock.now());
      handler(frame);
    });
  }

  queuedBytes(): number {
    return this.inner.queuedBytes();
  }

  close(): void {
    this.tap.closed?.(this.name);
    this.inner.close();
  }
}

/** The port itself when nothing taps it (no wrapper, no cost), else the port with the tap on. */
export function tapped(port: Port, tap: PortTap | undefined, clock: Clock): Port {
  return tap === undefined ? port : new TappedPort(port, tap, clock);
}
