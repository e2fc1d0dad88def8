import * as lo from 'buffer-layout';
import { WireHeader } from './header-view.js';
import { HEADER_BYTES } from './common-header.js';

/**
 * PROTO_MOE frames: the dispatch and combine all-to-all of the `moe` workload
 * (hosts/moe/moe.ts, hosts/moe/moe-exchange.ts). One reliable stream per (source rank, destination
 * rank, phase).
 *
 * Common header: type MOE_DATA or MOE_ACK; seq is the stream's sequence number (DATA) or the
 * acknowledged one (ACK); timestamp is the send time (DATA) or the echoed send time of the
 * DATA frame that triggered the ACK; srcPort = moeSourcePort(job, phase) (one "queue pair" per
 * phase, as RoCE picks a UDP source port per QP, so ECMP may hash the phases apart),
 * dstPort = MOE_PORT; an ACK swaps the two.
 *
 * MoE header, after the common header (big endian):
 *   phase      u8   MOE_DISPATCH | MOE_COMBINE
 *   flags      u8   MOE_FLAG_RETRANSMIT on a DATA frame sent again
 *   job        u16  the workload instance (several may share a host)
 *   value      u32  DATA: rows in the whole stream; ACK: the cumulative point (every seq below it received)
 *   firstRow   u32  DATA: the first row this frame carries
 *   rows       u16  DATA: rows in this frame (0 only in the one frame of an empty stream)
 *   reserved   u16  0
 *   elemOffset u32  DATA: each row's elements in this frame start here ...
 *   elemCount  u32  ... and there are this many (a row wider than a frame is split)
 * then, in DATA frames, `rows` rows of: token u32, expert u16, choice u8, reserved u8, and
 * elemCount float32 elements.
 */
export interface MoeHeader {
  phase: number;
  flags: number;
  job: number;
  value: number;
  firstRow: number;
  rows: number;
  reserved: number;
  elemOffset: number;
  elemCount: number;
}

export const moeHeaderLayout = lo.struct<MoeHeader>([
  lo.u8('phase'),
  lo.u8('flags'),
  lo.u16be('job'),
  lo.u32be('value'),
  lo.u32be('firstRow'),
  lo.u16be('rows'),
  lo.u16be('reserved'),
  lo.u32be('elemOffset'),
  lo.u32be('elemCount'),
]);

export const MOE_DATA = 1;
export const MOE_ACK = 2;
export const MOE_DISPATCH = 0;
export const MOE_COMBINE = 1;
export const MOE_FLAG_RETRANSMIT = 0x01;
/** RoCEv2's UDP port: the all-to-all is the traffic RDMA NICs carry in MoE training */
export const MOE_PORT = 4791;

/** The header right after the common header: offsets, checked view, parse/emit. */
export const moeHeader = new WireHeader('moe', moeHeaderLayout, HEADER_BYTES);
export const MOE = moeHeader.fields;
export const MOE_HEADER_BYTES = moeHeader.span;
export const MOE_OFF_PHASE = MOE.phase.at;
export const MOE_OFF_FLAGS = MOE.flags.at;
export const MOE_OFF_JOB = MOE.job.at;
export const MOE_OFF_VALUE = MOE.value.at;
export const MOE_OFF_FIRST_ROW = MOE.firstRow.at;
export const MOE_OFF_ROWS = MOE.rows.at;
export const MOE_OFF_ELEM_OFFSET = MOE.elemOffset.at;
export const MOE_OFF_ELEM_COUNT = MOE.elemCount.at;
export const MOE_OFF_DATA = HEADER_BYTES + MOE_HEADER_BYTES;
/** bytes of an ACK frame */
export const MOE_ACK_BYTES = MOE_OFF_DATA;

/** per row: token u32, expert u16, choice u8, reserved u8 */
export const MOE_ROW_REF_BYTES = 8;
/** float32 activations per DATA frame at most: 4 KiB, RoCE's usual 4096-byte MTU */
export const MOE_ELEMS_PER_FRAME = 1024;
/** rows per DATA frame at most (keeps frames of narrow rows under MAX_FRAME_BYTES) */
export const MOE_MAX_ROWS_PER_FRAME = 256;

/** The UDP-like source port of a job's stream in one phase (ephemeral range). */
export function moeSourcePort(job: number, phase: number): number {
  return 0xc000 | (((job << 1) | (phase & 1)) & 0x3fff);
}

/**
 * How a stream of `rows` rows of `hidden` float32 elements is cut into frames: whole rows,
 * several to a frame, when a row fits MOE_ELEMS_PER_FRAME; otherwise each row in
 * ceil(hidden / MOE_ELEMS_PER_FRAME) pieces. A stream of no rows is one empty frame (so the
 * receiver learns there is nothing, as Megatron's dispatcher exchanges counts first).
 */
export interface StreamGeometry {
  readonly rows: number;
  readonly hidden: number;
  readonly frames: number;
  /** rows per frame (whole-row frames), or 1 */
  readonly rowsPerFrame: number;
  /** frames per row (split rows), or 1 */
  readonly piecesPerRow: number;
}

export function streamGeometry(rows: number, hidden: number): StreamGeometry {
  if (!(Number.isInteger(rows) && rows >= 0)) throw new RangeError(`moe stream: rows must be an integer >= 0, got ${rows}`);
  if (!(Number.isInteger(hidden) && hidden >= 1)) throw new RangeError(`moe stream: hidden must be an integer >= 1, got ${hidden}`);
  if (hidden <= MOE_ELEMS_PER_FRAME) {
    const rowsPerFrame = Math.min(MOE_MAX_ROWS_PER_FRAME, Math.floor(MOE_ELEMS_PER_FRAME / hidden));
    return { rows, hidden, frames: Math.max(1, Math.ceil(rows / rowsPerFrame)), rowsPerFrame, piecesPerRow: 1 };
  }
  const piecesPerRow = Math.ceil(hidden / MOE_ELEMS_PER_FRAME);
  return { rows, hidden, frames: Math.max(1, rows * piecesPerRow), rowsPerFrame: 1, piecesPerRow };
}

/** What frame `seq` of a stream carries: rows [firstRow, firstRow + rows), elements [elemOffset, elemOffset + elemCount) of each. */
export interface FrameSlice {
  firstRow: number;
  rows: number;
  elemOffset: number;
  elemCount: number;
}

export function frameSlice(g: StreamGeometry, seq: number, out: FrameSlice = { firstRow: 0, rows: 0, elemOffset: 0, elemCount: 0 }): FrameSlice {
  if (g.rows === 0) {
    out.firstRow = 0;
    out.rows = 0;
    out.elemOffset = 0;
    out.elemCount = 0;
  } else if (g.piecesPerRow === 1) {
    out.firstRow = seq * g.rowsPerFrame;
    out.rows = Math.min(g.rowsPerFrame, g.rows - out.firstRow);
    out.elemOffset = 0;
    out.elemCount = g.hidden;
  } else {
    const piece = seq % g.piecesPerRow;
    out.firstRow = (seq - piece) / g.piecesPerRow;
    out.rows = 1;
    out.elemOffset = piece * MOE_ELEMS_PER_FRAME;
    out.elemCount = Math.min(MOE_ELEMS_PER_FRAME, g.hidden - out.elemOffset);
  }
  return out;
}

/** bytes of a DATA frame carrying `rows` rows of `elemCount` elements */
export function moeDataFrameBytes(rows: number, elemCount: number): number {
  return MOE_OFF_DATA + rows * (MOE_ROW_REF_BYTES + 4 * elemCount);
}

/** the largest DATA frame of a stream of rows `hidden` wide */
export function moeMaxFrameBytes(hidden: number): number {
  const g = streamGeometry(1, hidden);
  return g.piecesPerRow === 1 ? moeDataFrameBytes(g.rowsPerFrame, hidden) : moeDataFrameBytes(1, MOE_ELEMS_PER_FRAME);
}

/**
 * The `moe` workload's defaults, read by the scenario schema (which fills them in) and by
 * hosts/moe.ts (which fills them in for a spec built in code). Kept here, below both, so the
 * host code does not import the scenario layer.
 */
export const MOE_DEFAULTS = {
  tokensPerRank: 1024,
  hidden: 512,
  experts: 16,
  topK: 2,
  capacityFactor: null,
  dropPolicy: 'probs',
  skew: 1.0,
} as const;
