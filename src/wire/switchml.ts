import * as lo from 'buffer-layout';
import { WireHeader } from './header-view.js';
import { HEADER_BYTES, commonHeader, makeFrame, type CommonHeader } from './common-header.js';
import { readI32, writeI32 } from './bytes.js';

/**
 * SwitchML-style aggregation header, after the common header; `elementCount` signed 32-bit
 * big-endian integers follow it. The job is the common header's dstPort; the switch trusts
 * the frame's source address (its worker table), never a worker id written by the client.
 *
 * - slot: aggregator slot, relative to the job's slot range
 * - ver: which of the slot's two copies (shadow copies) this round uses
 * - exponent: on an UPDATE, the sender's block exponent for the NEXT packet that will use
 *   this slot (float32 only); on a RESULT, the maximum over all workers
 * - packet: the stream's packet index, echoed back in the result
 */
export interface SwitchmlHeader {
  kind: number;
  flags: number;
  slot: number;
  ver: number;
  exponent: number;
  elementCount: number;
  packet: number;
}

export const switchmlHeaderLayout = lo.struct<SwitchmlHeader>([
  lo.u8('kind'),
  lo.u8('flags'),
  lo.u16be('slot'),
  lo.u8('ver'),
  lo.s8('exponent'),
  lo.u16be('elementCount'),
  lo.u32be('packet'),
]);

export const SML_UPDATE = 1;
export const SML_RESULT = 2;
/** flags */
export const SML_FLAG_RETRANSMIT = 1;
export const SML_FLAG_OVERFLOW = 2;

/** The header right after the common header: offsets, checked view, parse/emit. */
export const switchmlHeader = new WireHeader('switchml', switchmlHeaderLayout, HEADER_BYTES);
export const SML = switchmlHeader.fields;
export const SML_HEADER_BYTES = switchmlHeader.span;
export const SML_OFF_KIND = SML.kind.at;
export const SML_OFF_FLAGS = SML.flags.at;
export const SML_OFF_SLOT = SML.slot.at;
export const SML_OFF_VER = SML.ver.at;
export const SML_OFF_EXPONENT = SML.exponent.at;
export const SML_OFF_COUNT = SML.elementCount.at;
export const SML_OFF_PACKET = SML.packet.at;
export const SML_OFF_DATA = HEADER_BYTES + SML_HEADER_BYTES;

/** A SwitchML frame in plain form, for tests and tools (the hot paths write fields in place). */
export interface SwitchmlFrameInit {
  readonly protocol: number;
  readonly src: number;
  readonly dst: number;
  /** the job: the common header's dstPort */
  readonly job: number;
  readonly kind: number;
  readonly flags?: number;
  readonly slot: number;
  readonly ver: number;
  readonly exponent?: number;
  readonly packet: number;
  readonly values: readonly number[];
}

export function encodeSwitchmlFrame(i: SwitchmlFrameInit): Uint8Array {
  const f = makeFrame({ protocol: i.protocol, src: i.src, dst: i.dst, dstPort: i.job }, SML_HEADER_BYTES + 4 * i.values.length);
  switchmlHeader.emit(
    { kind: i.kind, flags: i.flags ?? 0, slot: i.slot, ver: i.ver, exponent: i.exponent ?? 0, elementCount: i.values.length, packet: i.packet },
    f,
  );
  i.values.forEach((v, k) => writeI32(f, SML_OFF_DATA + 4 * k, v));
  return f;
}

/** A SwitchML (or SHARP) frame parsed: both headers and the values that follow them. */
export interface SwitchmlFrame {
  readonly common: CommonHeader;
  readonly header: SwitchmlHeader;
  readonly values: number[];
}

/** Parses a frame whose headers fit; reads `elementCount` values, as many as the frame holds. */
export function parseSwitchmlFrame(f: Uint8Array): SwitchmlFrame {
  const header = switchmlHeader.parse(f);
  const n = Math.min(header.elementCount, Math.floor((f.length - SML_OFF_DATA) / 4));
  return { common: commonHeader.parse(f), header, values: Array.from({ length: n }, (_, k) => readI32(f, SML_OFF_DATA + 4 * k)) };
}
