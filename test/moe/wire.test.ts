/** PROTO_MOE framing (src/wire/moe.ts): how a stream of rows is cut into frames. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MOE_ACK_BYTES, MOE_COMBINE, MOE_DISPATCH, MOE_ELEMS_PER_FRAME, MOE_HEADER_BYTES, frameSlice, moeDataFrameBytes, moeMaxFrameBytes,
  moeSourcePort, streamGeometry,
} from '../../src/wire/moe.js';
import { HEADER_BYTES, MAX_FRAME_BYTES } from '../../src/wire/common-header.js';

describe('moe stream geometry', () => {
  it('frames tile every element of every row exactly once, each frame within MAX_FRAME_BYTES', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1000, max: 5000 })), (rows, hidden) => {
        const g = streamGeometry(rows, hidden);
        const seen = new Uint8Array(rows * hidden);
        for (let seq = 0; seq < g.frames; seq++) {
          const s = frameSlice(g, seq);
          expect(moeDataFrameBytes(s.rows, s.elemCount)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
          expect(moeDataFrameBytes(s.rows, s.elemCount)).toBeLessThanOrEqual(moeMaxFrameBytes(hidden));
          expect(s.elemCount).toBeLessThanOrEqual(MOE_ELEMS_PER_FRAME);
          for (let r = s.firstRow; r < s.firstRow + s.rows; r++) for (let h = s.elemOffset; h < s.elemOffset + s.elemCount; h++) seen[r * hidden + h]!++;
        }
        expect(seen.every((v) => v === 1)).toBe(true);
        // an empty stream is one empty frame, so its receiver learns it is empty
        if (rows === 0) expect(g.frames).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('a 512-wide row of float32 is 2 KiB: two rows per 4 KiB frame; wider rows are split', () => {
    expect(streamGeometry(10, 512)).toMatchObject({ frames: 5, rowsPerFrame: 2, piecesPerRow: 1 });
    expect(streamGeometry(3, 2500)).toMatchObject({ frames: 9, rowsPerFrame: 1, piecesPerRow: 3 });
    expect(moeDataFrameBytes(2, 512)).toBe(HEADER_BYTES + MOE_HEADER_BYTES + 2 * (8 + 2048));
    expect(MOE_ACK_BYTES).toBe(HEADER_BYTES + MOE_HEADER_BYTES);
  });

  it('each (job, phase) has its own source port', () => {
    const ports = new Set<number>();
    for (let job = 1; job <= 100; job++) for (const ph of [MOE_DISPATCH, MOE_COMBINE]) ports.add(moeSourcePort(job, ph));
    expect(ports.size).toBe(200);
  });
});
