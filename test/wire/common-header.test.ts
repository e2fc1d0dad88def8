import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkCommonHeader,
  encodeCommonHeader,
  frameDst,
  frameSeq,
  frameSrc,
  frameTimestamp,
  HEADER_BYTES,
  makeFrame,
  parseCommonHeader,
  payloadOf,
  PARSE_ERROR_KINDS,
  WIRE_VERSION,
  type CommonHeader,
  type FrameInit,
  type ParseErrorKind,
} from '../../src/wire/common-header.js';

// The layout spelled out by hand, independently of buffer-layout's offset arithmetic:
// 8 one-byte fields, src/dst u32, srcPort/dstPort/payloadLength/feedback u16, seq u32, f64.
const EXPECTED_HEADER_BYTES = 36;
const PAYLOAD_LENGTH_OFFSET = 20;

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const f64 = fc.double(); // includes NaN, +-0, +-Infinity, subnormals

const headerArb = (payloadLength: fc.Arbitrary<number>): fc.Arbitrary<CommonHeader> =>
  fc.record({
    version: u8,
    type: u8,
    ttl: u8,
    ecn: u8,
    flags: u8,
    protocol: u8,
    congestion: u8,
    pathTag: u8,
    src: u32,
    dst: u32,
    srcPort: u16,
    dstPort: u16,
    payloadLength,
    feedback: u16,
    seq: u32,
    timestamp: f64,
  });

const frameInitArb: fc.Arbitrary<FrameInit> = fc.record(
  {
    type: u8,
    ttl: u8,
    ecn: u8,
    flags: u8,
    protocol: u8,
    src: u32,
    dst: u32,
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    timestamp: f64,
  },
  { requiredKeys: ['protocol', 'src', 'dst'] },
);

/** The classification recomputed from raw bytes with a DataView, not with the module's helpers. */
function classify(b: Uint8Array): ParseErrorKind | null {
  if (b.length < EXPECTED_HEADER_BYTES) return 'short';
  if (b[0] !== 1) return 'version';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const want = EXPECTED_HEADER_BYTES + dv.getUint16(PAYLOAD_LENGTH_OFFSET, false);
  if (want > b.length) return 'truncated';
  if (want < b.length) return 'length';
  return null;
}

/** Arbitrary bytes, biased towards the interesting region: right length and right version. */
const datagramArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc
    .record({
      bytes: fc.uint8Array({ minLength: EXPECTED_HEADER_BYTES, maxLength: EXPECTED_HEADER_BYTES + 64 }),
      version: fc.constantFrom(1, 1, 1, 0, 2, 255),
      delta: fc.integer({ min: -3, max: 3 }),
    })
    .map(({ bytes, version, delta }) => {
      bytes[0] = version;
      const len = Math.max(0, bytes.length - EXPECTED_HEADER_BYTES + delta);
      bytes[PAYLOAD_LENGTH_OFFSET] = (len >>> 8) & 0xff;
      bytes[PAYLOAD_LENGTH_OFFSET + 1] = len & 0xff;
      return bytes;
    }),
);

describe('common header layout', () => {
  it('has the documented size, version and error kinds', () => {
    expect(HEADER_BYTES).toBe(EXPECTED_HEADER_BYTES);
    expect(WIRE_VERSION).toBe(1);
    expect([...PARSE_ERROR_KINDS].sort()).toEqual(['length', 'short', 'truncated', 'version']);
  });

  it('is big-endian at the documented offsets', () => {
    const b = makeFrame({ protocol: 6, src: 0x0a000001, dst: 0xc0a80102, srcPort: 0x1234, dstPort: 0xabcd, seq: 0xdeadbeef, ttl: 9 }, 0x0102);
    expect(b.length).toBe(EXPECTED_HEADER_BYTES + 0x0102);
    expect([...b.subarray(0, 8)]).toEqual([1, 0, 9, 0, 0, 6, 0, 0]);
    expect([...b.subarray(8, 12)]).toEqual([0x0a, 0, 0, 1]);
    expect([...b.subarray(12, 16)]).toEqual([0xc0, 0xa8, 0x01, 0x02]);
    expect([...b.subarray(16, 22)]).toEqual([0x12, 0x34, 0xab, 0xcd, 0x01, 0x02]);
    expect([...b.subarray(24, 28)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });
});

describe('round trip', () => {
  it('encodeCommonHeader then parseCommonHeader gives back every field', () => {
    fc.assert(
      fc.property(headerArb(fc.integer({ min: 0, max: 300 })), (h0) => {
        const h = { ...h0, version: WIRE_VERSION };
        const b = new Uint8Array(HEADER_BYTES + h.payloadLength);
        encodeCommonHeader(h, b);
        const r = parseCommonHeader(b);
        expect(r).toEqual({ ok: true, header: h });
        expect(checkCommonHeader(b)).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('encode over the full range of every field (payloadLength up to 65535) decodes to the same fields', () => {
    fc.assert(
      fc.property(headerArb(u16), (h) => {
        // The header alone: the frame may be ill-formed (version, length), the fields must survive.
        const b = new Uint8Array(HEADER_BYTES);
        encodeCommonHeader(h, b);
        const dv = new DataView(b.buffer);
        expect(b[0]).toBe(h.version);
        expect(b[2]).toBe(h.ttl);
        expect(b[5]).toBe(h.protocol);
        expect(b[7]).toBe(h.pathTag);
        expect(dv.getUint32(8)).toBe(h.src);
        expect(dv.getUint32(12)).toBe(h.dst);
        expect(dv.getUint16(16)).toBe(h.srcPort);
        expect(dv.getUint16(18)).toBe(h.dstPort);
        expect(dv.getUint16(20)).toBe(h.payloadLength);
        expect(dv.getUint16(22)).toBe(h.feedback);
        expect(dv.getUint32(24)).toBe(h.seq);
        expect(Object.is(dv.getFloat64(28), h.timestamp)).toBe(true);
        // Give it the right version and size, and it must parse back to h.
        const full = new Uint8Array(HEADER_BYTES + h.payloadLength);
        encodeCommonHeader({ ...h, version: WIRE_VERSION }, full);
        expect(parseCommonHeader(full)).toEqual({ ok: true, header: { ...h, version: WIRE_VERSION } });
      }),
      { numRuns: 300 },
    );
  });

  it('makeFrame (the fast writers) and the layout decoder agree on every field and default', () => {
    fc.assert(
      fc.property(frameInitArb, fc.integer({ min: 0, max: 2000 }), (init, payloadLength) => {
        const b = makeFrame(init, payloadLength);
        expect(b.length).toBe(HEADER_BYTES + payloadLength);
        const r = parseCommonHeader(b);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.header).toEqual({
          version: WIRE_VERSION,
          type: init.type ?? 0,
          ttl: init.ttl ?? 64,
          ecn: init.ecn ?? 0,
          flags: init.flags ?? 0,
          protocol: init.protocol,
          congestion: 0,
          pathTag: 0,
          src: init.src,
          dst: init.dst,
          srcPort: init.srcPort ?? 0,
          dstPort: init.dstPort ?? 0,
          payloadLength,
          feedback: 0,
          seq: init.seq ?? 0,
          timestamp: init.timestamp ?? 0,
        });
        expect(frameSrc(b)).toBe(init.src);
        expect(frameDst(b)).toBe(init.dst);
        expect(frameSeq(b)).toBe(init.seq ?? 0);
        expect(Object.is(frameTimestamp(b), init.timestamp ?? 0)).toBe(true);
        expect(payloadOf(b).length).toBe(payloadLength);
        expect(payloadOf(b).every((x) => x === 0)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('re-encoding the parsed header of a makeFrame frame gives the same bytes', () => {
    fc.assert(
      fc.property(frameInitArb, fc.integer({ min: 0, max: 64 }), (init, payloadLength) => {
        const a = makeFrame(init, payloadLength);
        const r = parseCommonHeader(a);
        if (!r.ok) throw new Error('makeFrame produced an ill-formed frame');
        const b = new Uint8Array(a.length);
        encodeCommonHeader(r.header, b);
        expect(b).toEqual(a);
      }),
    );
  });

  it('parses a header sitting in a subarray of a bigger buffer (byteOffset != 0)', () => {
    fc.assert(
      fc.property(frameInitArb, fc.integer({ min: 0, max: 32 }), fc.integer({ min: 1, max: 17 }), (init, payloadLength, pad) => {
        const f = makeFrame(init, payloadLength);
        const big = new Uint8Array(pad + f.length + pad).fill(0xee);
        big.set(f, pad);
        const view = big.subarray(pad, pad + f.length);
        expect(parseCommonHeader(view)).toEqual(parseCommonHeader(f));
        expect(checkCommonHeader(view)).toBeNull();
      }),
    );
  });
});

describe('malformed datagrams', () => {
  it('parseCommonHeader and checkCommonHeader never throw and classify like an independent check', () => {
    fc.assert(
      fc.property(datagramArb, (b) => {
        const want = classify(b);
        let check: ParseErrorKind | null = null;
        let parsed: ReturnType<typeof parseCommonHeader> | undefined;
        expect(() => {
          check = checkCommonHeader(b);
          parsed = parseCommonHeader(b);
        }).not.toThrow();
        expect(check).toBe(want);
        if (want === null) {
          expect(parsed!.ok).toBe(true);
          if (parsed!.ok) {
            expect(parsed!.header.version).toBe(1);
            expect(parsed!.header.payloadLength).toBe(b.length - EXPECTED_HEADER_BYTES);
          }
        } else {
          expect(parsed).toEqual({ ok: false, error: want });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('every classification is reachable from the generator (the property above is not vacuous)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(datagramArb, (b) => {
        seen.add(String(classify(b)));
      }),
      { numRuns: 2000, seed: 42 },
    );
    expect([...seen].sort()).toEqual(['length', 'null', 'short', 'truncated', 'version']);
  });

  it('classifies the boundary cases', () => {
    expect(checkCommonHeader(new Uint8Array(0))).toBe('short');
    expect(checkCommonHeader(new Uint8Array(HEADER_BYTES - 1).fill(1))).toBe('short');
    const ok = makeFrame({ protocol: 1, src: 1, dst: 2 }, 10);
    expect(checkCommonHeader(ok)).toBeNull();
    const v0 = ok.slice();
    v0[0] = 0;
    expect(checkCommonHeader(v0)).toBe('version');
    // one byte missing from the payload
    expect(checkCommonHeader(ok.subarray(0, ok.length - 1))).toBe('truncated');
    // header only, payloadLength says 10
    expect(checkCommonHeader(ok.subarray(0, HEADER_BYTES))).toBe('truncated');
    // one trailing byte
    const longer = new Uint8Array(ok.length + 1);
    longer.set(ok);
    expect(checkCommonHeader(longer)).toBe('length');
    expect(parseCommonHeader(longer)).toEqual({ ok: false, error: 'length' });
    // version is checked before length: a short payload of the wrong version says version
    const both = ok.subarray(0, ok.length - 1).slice();
    both[0] = 2;
    expect(checkCommonHeader(both)).toBe('version');
    // empty payload, exactly the header
    expect(checkCommonHeader(makeFrame({ protocol: 1, src: 1, dst: 2 }, 0))).toBeNull();
  });
});
