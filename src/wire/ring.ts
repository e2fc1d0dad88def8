import * as lo from 'buffer-layout';
import { WireHeader } from './header-view.js';
import { HEADER_BYTES } from './common-header.js';

/**
 * Host-only ring all-reduce: the header after the common header. The common header's `seq`
 * is the reliable stream's sequence number (sender → its ring successor); DATA frames carry
 * elements after this header, ACK frames acknowledge one `seq` and carry nothing.
 * Same length as the SwitchML header, so both algorithms pay the same per-frame overhead.
 */
export interface RingHeader {
  kind: number;
  flags: number;
  iteration: number;
  step: number;
  reserved: number;
  chunk: number;
}

export const ringHeaderLayout = lo.struct<RingHeader>([
  lo.u8('kind'),
  lo.u8('flags'),
  lo.u16be('iteration'),
  lo.u16be('step'),
  lo.u16be('reserved'),
  lo.u32be('chunk'),
]);

export const RING_DATA = 1;
export const RING_ACK = 2;

/** The header right after the common header: offsets, checked view, parse/emit. */
export const ringHeader = new WireHeader('ring', ringHeaderLayout, HEADER_BYTES);
export const RING = ringHeader.fields;
export const RING_HEADER_BYTES = ringHeader.span;
/** absolute offsets in the frame */
export const RING_OFF_KIND = RING.kind.at;
export const RING_OFF_FLAGS = RING.flags.at;
export const RING_OFF_ITERATION = RING.iteration.at;
export const RING_OFF_STEP = RING.step.at;
export const RING_OFF_CHUNK = RING.chunk.at;
export const RING_OFF_DATA = HEADER_BYTES + RING_HEADER_BYTES;
