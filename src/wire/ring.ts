import * as lo from 'buffer-layout';
import { fieldsOf } from './layout-fields.js';
import { HEADER_BYTES } from './common-header.js';

/**
 * Host-only ring all-reduce: the header after the common header. The common header's `seq`
 * is the reliable stream's sequence number (sender → its ring successor); DATA frames carry
 * elements after this header, ACK frames acknowledge one `seq` and carry nothing.
 * Same length as the SwitchML header, so both algorithms pay the same per-frame overhead.
 */
export const ringHeaderLayout = lo.struct([
  lo.u8('kind'),
  lo.u8('flags'),
  lo.u16be('iteration'),
  lo.u16be('step'),
  lo.u16be('reserved'),
  lo.u32be('chunk'),
]);

export const RING_DATA = 1;
export const RING_ACK = 2;

export const RING = fieldsOf(ringHeaderLayout, ['kind', 'flags', 'iteration', 'step', 'chunk'] as const);
export const RING_HEADER_BYTES = ringHeaderLayout.span;
/** absolute offsets in the frame */
export const RING_OFF_KIND = HEADER_BYTES + RING.kind.offset;
export const RING_OFF_FLAGS = HEADER_BYTES + RING.flags.offset;
export const RING_OFF_ITERATION = HEADER_BYTES + RING.iteration.offset;
export const RING_OFF_STEP = HEADER_BYTES + RING.step.offset;
export const RING_OFF_CHUNK = HEADER_BYTES + RING.chunk.offset;
export const RING_OFF_DATA = HEADER_BYTES + RING_HEADER_BYTES;
