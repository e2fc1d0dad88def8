import * as lo from 'buffer-layout';
import { fieldsOf } from './layout-fields.js';
import { HEADER_BYTES } from './common-header.js';

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
