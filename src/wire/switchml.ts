import * as lo from 'buffer-layout';
import { fieldsOf } from './layout-fields.js';
import { HEADER_BYTES, makeFrame } from './common-header.js';
import { writeI32, writeU16, writeU32 } from './bytes.js';

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
export const switchmlHeaderLayout = lo.struct([
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

export const SML = fieldsOf(switchmlHeaderLayout, ['kind', 'flags', 'slot', 'ver', 'exponent', 'elementCount', 'packet'] as const);
export const SML_HEADER_BYTES = switchmlHeaderLayout.span;
export const SML_OFF_KIND = HEADER_BYTES + SML.kind.offset;
export const SML_OFF_FLAGS = HEADER_BYTES + SML.flags.offset;
export const SML_OFF_SLOT = HEADER_BYTES + SML.slot.offset;
export const SML_OFF_VER = HEADER_BYTES + SML.ver.offset;
export const SML_OFF_EXPONENT = HEADER_BYTES + SML.exponent.offset;
export const SML_OFF_COUNT = HEADER_BYTES + SML.elementCount.offset;
export const SML_OFF_PACKET = HEADER_BYTES + SML.packet.offset;
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
  f[SML_OFF_KIND] = i.kind;
  f[SML_OFF_FLAGS] = i.flags ?? 0;
  writeU16(f, SML_OFF_SLOT, i.slot);
  f[SML_OFF_VER] = i.ver;
  f[SML_OFF_EXPONENT] = (i.exponent ?? 0) & 0xff;
  writeU16(f, SML_OFF_COUNT, i.values.length);
  writeU32(f, SML_OFF_PACKET, i.packet);
  i.values.forEach((v, k) => writeI32(f, SML_OFF_DATA + 4 * k, v));
  return f;
}
