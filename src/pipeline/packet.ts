import { readField, writeField, type HeaderField, type HeaderRef } from './header.js';

/** Port number meaning "none chosen". */
export const NO_PORT = -1;

/**
 * The packet as a program sees it during one pass: the frame bytes, which headers the parser
 * found and where, PSA-style standard metadata, and the program's own metadata.
 *
 * The engine reuses one Packet object per pipeline (processing is synchronous), so a program
 * must not keep a reference to it after its control returns.
 */
export class Packet<M = Record<string, number>> {
  buf: Uint8Array = new Uint8Array(0);
  /** offset of each header instance in buf, -1 when not valid */
  readonly hdrOffset: Int32Array;
  /** bytes consumed by the parser */
  parsedBytes = 0;

  // Standard metadata, PSA vocabulary.
  ingressPort = NO_PORT;
  egressPort = NO_PORT;
  /** multicast group; 0 means none */
  mcastGroup = 0;
  drop = false;
  /** clone session id; -1 means none */
  cloneSession = -1;
  /** after egress: back to the parser as a new pass (arrives on RECIRCULATION_PORT) */
  recirculate = false;
  /**
   * after ingress: run ingress again on the same port. Unlike v1model, the bytes are the
   * packet as ingress left them, not the original (which would cost a copy per packet).
   */
  resubmit = false;
  /** pass number: 0 first, +1 per recirculation or resubmission */
  pass = 0;
  /** replication id (instance) of this copy at egress; 0 for unicast */
  instance = 0;
  /** true on the copy made by a clone session */
  isClone = false;
  /** bytes queued at this packet's egress port when it was handed to the traffic manager */
  egressQueueBytes = 0;
  /** ingress timestamp, ns of the switch clock */
  timestampNs = 0;
  /** set by consume(): not forwarded, on purpose */
  consumed = false;
  /** parser error kind when the parser rejected the packet */
  parserError: string | null = null;

  constructor(headerCount: number, public meta: M) {
    this.hdrOffset = new Int32Array(headerCount).fill(-1);
  }

  valid(h: HeaderRef): boolean {
    return this.hdrOffset[h.index]! >= 0;
  }

  get(h: HeaderRef, f: HeaderField): number {
    return readField(this.buf, this.hdrOffset[h.index]!, f);
  }

  set(h: HeaderRef, f: HeaderField, v: number): void {
    writeField(this.buf, this.hdrOffset[h.index]!, f, v);
  }

  /** Start of a header instance's bytes (for programs that read arrays after it). */
  offsetOf(h: HeaderRef): number {
    return this.hdrOffset[h.index]!;
  }

  /** PSA send_to_port */
  sendToPort(port: number): void {
    this.egressPort = port;
    this.drop = false;
  }

  /** PSA multicast */
  multicast(group: number): void {
    this.mcastGroup = group;
    this.drop = false;
  }

  markToDrop(): void {
    this.drop = true;
  }

  /**
   * The program took the packet in (an aggregator absorbing a contribution): it goes no
   * further, like a drop, but is counted as consumed, not as lost.
   */
  consume(): void {
    this.drop = true;
    this.consumed = true;
  }

  /** Resets per-pass state; the engine calls this, not programs. */
  reset(buf: Uint8Array, ingressPort: number, pass: number, nowNs: number): void {
    this.buf = buf;
    this.hdrOffset.fill(-1);
    this.parsedBytes = 0;
    this.ingressPort = ingressPort;
    this.egressPort = NO_PORT;
    this.mcastGroup = 0;
    this.drop = false;
    this.consumed = false;
    this.cloneSession = -1;
    this.recirculate = false;
    this.resubmit = false;
    this.pass = pass;
    this.instance = 0;
    this.isClone = false;
    this.egressQueueBytes = 0;
    this.timestampNs = nowNs;
    this.parserError = null;
  }
}
