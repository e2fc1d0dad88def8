import type { Clock } from '../net/clock.js';
import type { Port } from '../net/port.js';
import type { Rng } from '../net/rng.js';
import { checkCommonHeader, OFF_DST, OFF_PROTOCOL, type ParseErrorKind } from '../wire/common-header.js';
import { readU32 } from '../wire/bytes.js';

export type ProtocolHandler = (frame: Uint8Array) => void;

/**
 * A host's network stack: one port to its switch, one address, and a demultiplexer from the
 * common header's protocol number to the agent that handles it. Malformed frames and frames
 * for another address are counted and dropped with their reason, never thrown.
 */
export class HostStack {
  private readonly handlers = new Map<number, ProtocolHandler>();
  readonly malformed: Record<ParseErrorKind, number> = { short: 0, version: 0, truncated: 0, length: 0 };
  misdelivered = 0;
  unhandled = 0;
  rxFrames = 0;
  txFrames = 0;
  txBytes = 0;

  constructor(
    readonly name: string,
    readonly address: number,
    readonly port: Port,
    readonly clock: Clock,
    readonly rng: Rng,
  ) {
    port.onReceive((frame) => this.receive(frame));
  }

  /** Routes frames of a protocol to a handler; returns a function that unbinds it. */
  bind(protocol: number, handler: ProtocolHandler): () => void {
    if (this.handlers.has(protocol)) throw new Error(`${this.name}: protocol ${protocol} already bound`);
    this.handlers.set(protocol, handler);
    return () => {
      if (this.handlers.get(protocol) === handler) this.handlers.delete(protocol);
    };
  }

  send(frame: Uint8Array): void {
    this.txFrames++;
    this.txBytes += frame.length;
    this.port.send(frame);
  }

  private receive(frame: Uint8Array): void {
    const err = checkCommonHeader(frame);
    if (err !== null) {
      this.malformed[err]++;
      return;
    }
    if (readU32(frame, OFF_DST) !== this.address) {
      this.misdelivered++;
      return;
    }
    this.rxFrames++;
    const h = this.handlers.get(frame[OFF_PROTOCOL]!);
    if (h) h(frame);
    else this.unhandled++;
  }
}
