import * as lo from 'buffer-layout';
import { WireHeader } from './header-view.js';
import { asBuffer, readF64, readU16, readU32, writeF64, writeU16, writeU32 } from './bytes.js';
import { allocFrame } from './frame-slab.js';

/**
 * The common header carried by every emulated frame (one frame = one UDP datagram).
 * Network byte order. Declared once here; offsets used on the hot path come from this.
 *
 * `congestion`, `pathTag` and `feedback` are reserved for in-band congestion signalling
 * (CONGA's CE field, LBTag and piggybacked feedback); zero when unused.
 */
export const commonHeaderLayout = lo.struct<CommonHeader>([
  lo.u8('version'),
  lo.u8('type'),
  lo.u8('ttl'),
  lo.u8('ecn'),
  lo.u8('flags'),
  lo.u8('protocol'),
  lo.u8('congestion'),
  lo.u8('pathTag'),
  lo.u32be('src'),
  lo.u32be('dst'),
  lo.u16be('srcPort'),
  lo.u16be('dstPort'),
  lo.u16be('payloadLength'),
  lo.u16be('feedback'),
  lo.u32be('seq'),
  lo.f64be('timestamp'),
]);

export interface CommonHeader {
  version: number;
  type: number;
  ttl: number;
  /** ECN codepoint, RFC 3168: 0 not-ECT, 1 ECT(1), 2 ECT(0), 3 CE */
  ecn: number;
  flags: number;
  protocol: number;
  congestion: number;
  pathTag: number;
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  payloadLength: number;
  feedback: number;
  seq: number;
  /** send time in nanoseconds of the sender's clock */
  timestamp: number;
}

export const WIRE_VERSION = 1;
export const HEADER_BYTES = commonHeaderLayout.span;
/** Largest frame the emulator carries: fits a loopback UDP datagram comfortably. */
export const MAX_FRAME_BYTES = 9000;
export const ECN_CE = 3;
export const ECN_ECT0 = 2;

/** The common header at the front of every frame: field offsets, checked view, parse/emit. */
export const commonHeader = new WireHeader('common', commonHeaderLayout, 0);
export const H = commonHeader.fields;

// Plain offsets for the hot path.
export const OFF_VERSION = H.version.offset;
export const OFF_TYPE = H.type.offset;
export const OFF_TTL = H.ttl.offset;
export const OFF_ECN = H.ecn.offset;
export const OFF_FLAGS = H.flags.offset;
export const OFF_PROTOCOL = H.protocol.offset;
export const OFF_CONGESTION = H.congestion.offset;
export const OFF_PATHTAG = H.pathTag.offset;
export const OFF_SRC = H.src.offset;
export const OFF_DST = H.dst.offset;
export const OFF_SRCPORT = H.srcPort.offset;
export const OFF_DSTPORT = H.dstPort.offset;
export const OFF_PAYLOADLEN = H.payloadLength.offset;
export const OFF_FEEDBACK = H.feedback.offset;
export const OFF_SEQ = H.seq.offset;
export const OFF_TIMESTAMP = H.timestamp.offset;

export type ParseErrorKind = 'short' | 'version' | 'truncated' | 'length';
export const PARSE_ERROR_KINDS: readonly ParseErrorKind[] = ['short', 'version', 'truncated', 'length'];

/**
 * Bounds and consistency check of the common header, allocation-free.
 * Returns null when the frame is well formed, else why it is not.
 */
export function checkCommonHeader(b: Uint8Array): ParseErrorKind | null {
  if (b.length < HEADER_BYTES) return 'short';
  if (b[OFF_VERSION] !== WIRE_VERSION) return 'version';
  const len = readU16(b, OFF_PAYLOADLEN);
  if (HEADER_BYTES + len > b.length) return 'truncated';
  if (HEADER_BYTES + len < b.length) return 'length';
  return null;
}

export type ParseResult = { ok: true; header: CommonHeader } | { ok: false; error: ParseErrorKind };

/** Parsed form for tests and reports. Never throws. */
export function parseCommonHeader(b: Uint8Array): ParseResult {
  const error = checkCommonHeader(b);
  if (error) return { ok: false, error };
  return { ok: true, header: commonHeader.parse(b) };
}

/** Writes a header at the front of `b` (which must hold HEADER_BYTES + payloadLength). */
export function encodeCommonHeader(h: CommonHeader, b: Uint8Array): void {
  commonHeader.emit(h, b);
}

export { asBuffer };

export interface FrameInit {
  type?: number;
  ttl?: number;
  ecn?: number;
  flags?: number;
  protocol: number;
  src: number;
  dst: number;
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  timestamp?: number;
}

/**
 * Allocates a frame with room for `payloadLength` bytes after the header and fills the
 * header with the fast writers (the hot path for senders). Payload bytes are left zero. The
 * frame is a view into a shared slab (see frame-slab.ts): its byteOffset need not be 0.
 */
export function makeFrame(init: FrameInit, payloadLength: number): Uint8Array {
  const b = allocFrame(HEADER_BYTES + payloadLength);
  writeFrameHeader(b, init, init.protocol, init.src, init.timestamp ?? 0, payloadLength);
  return b;
}

/**
 * makeFrame's header, written at the front of `b` (zero-filled, HEADER_BYTES + payloadLength
 * long), with protocol, source and timestamp passed apart from `init` (whose own are ignored),
 * so that an agent stamping its frames builds no merged init object per frame.
 */
export function writeFrameHeader(b: Uint8Array, init: Omit<FrameInit, 'protocol' | 'src'>, protocol: number, src: number, timestamp: number, payloadLength: number): void {
  b[OFF_VERSION] = WIRE_VERSION;
  b[OFF_TYPE] = init.type ?? 0;
  b[OFF_TTL] = init.ttl ?? 64;
  b[OFF_ECN] = init.ecn ?? 0;
  b[OFF_FLAGS] = init.flags ?? 0;
  b[OFF_PROTOCOL] = protocol;
  writeU32(b, OFF_SRC, src);
  writeU32(b, OFF_DST, init.dst);
  writeU16(b, OFF_SRCPORT, init.srcPort ?? 0);
  writeU16(b, OFF_DSTPORT, init.dstPort ?? 0);
  writeU16(b, OFF_PAYLOADLEN, payloadLength);
  writeU32(b, OFF_SEQ, init.seq ?? 0);
  writeF64(b, OFF_TIMESTAMP, timestamp);
}

export const frameSrc = (b: Uint8Array): number => readU32(b, OFF_SRC);
export const frameDst = (b: Uint8Array): number => readU32(b, OFF_DST);
export const frameSeq = (b: Uint8Array): number => readU32(b, OFF_SEQ);
export const frameTimestamp = (b: Uint8Array): number => readF64(b, OFF_TIMESTAMP);
export const payloadOf = (b: Uint8Array): Uint8Array => b.subarray(HEADER_BYTES);
