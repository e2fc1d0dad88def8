import * as lo from 'buffer-layout';
import { HEADER_BYTES } from './common-header.js';
import { WireHeader } from './header-view.js';

/**
 * PROTO_FLOW frames: the reliable flows of the `flows` workload (hosts/flows/flows.ts).
 *
 * Common header: type FLOW_DATA or FLOW_ACK; srcPort/dstPort make each flow its own 5-tuple
 * (DATA: srcPort = the flow's ephemeral port, dstPort = FLOW_BASE_PORT + job; ACK: swapped); seq is the
 * stream sequence number (DATA) or the acknowledged one (ACK); timestamp is the send time (DATA)
 * or the echoed send time of the DATA frame that triggered the ACK; flags carry
 * FLOW_FLAG_RETRANSMIT on a DATA frame sent again.
 *
 * Flow header, after the common header (big endian):
 *   job   u16   the workload instance (several may share a host)
 *   -     u16   reserved, 0
 *   flow  u32   flow id within the job
 *   value u32   DATA: the flow's size in bytes; ACK: the cumulative point (every seq below it received)
 * then, in DATA frames, the flow's bytes from offset seq × FLOW_MSS.
 */
export const FLOW_DATA = 1;
export const FLOW_ACK = 2;
export const FLOW_FLAG_RETRANSMIT = 0x01;
export const FLOW_BASE_PORT = 5000;

export interface FlowHeader {
  job: number;
  reserved: number;
  flow: number;
  value: number;
}

export const flowHeaderLayout = lo.struct<FlowHeader>([lo.u16be('job'), lo.u16be('reserved'), lo.u32be('flow'), lo.u32be('value')]);

/** The header right after the common header: offsets, checked view, parse/emit. */
export const flowHeader = new WireHeader('flow', flowHeaderLayout, HEADER_BYTES);
export const FLOW_OFF_JOB = flowHeader.fields.job.at;
export const FLOW_OFF_FLOW = flowHeader.fields.flow.at;
export const FLOW_OFF_VALUE = flowHeader.fields.value.at;
export const FLOW_HEADER_BYTES = flowHeader.span;
export const FLOW_OFF_DATA = HEADER_BYTES + FLOW_HEADER_BYTES;
/** flow bytes per DATA frame: a 1500-byte MTU's worth */
export const FLOW_MSS = 1400;
export const FLOW_ACK_BYTES = FLOW_OFF_DATA;

/** frames a flow of `size` bytes takes (a flow of 0 bytes still sends one, empty) */
export function flowFrames(size: number): number {
  return Math.max(1, Math.ceil(size / FLOW_MSS));
}

/** bytes on the wire for a flow of `size` bytes (its DATA frames, headers included) */
export function flowWireBytes(size: number): number {
  return flowFrames(size) * FLOW_OFF_DATA + size;
}
