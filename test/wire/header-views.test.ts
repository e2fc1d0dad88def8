import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU16, readU32 } from '../../src/wire/bytes.js';
import { commonHeader, HEADER_BYTES } from '../../src/wire/common-header.js';
import { TruncatedHeaderError, type WireHeader } from '../../src/wire/header-view.js';
import { FLOW_HEADER_BYTES, FLOW_OFF_DATA, FLOW_OFF_FLOW, FLOW_OFF_JOB, FLOW_OFF_VALUE, flowHeader } from '../../src/wire/flow.js';
import { moeHeader, MOE_HEADER_BYTES, MOE_OFF_DATA } from '../../src/wire/moe.js';
import { ringHeader, RING_HEADER_BYTES } from '../../src/wire/ring.js';
import {
  encodeSwitchmlFrame, parseSwitchmlFrame, SML_HEADER_BYTES, SML_OFF_DATA, SML_OFF_EXPONENT, SML_OFF_SLOT, switchmlHeader,
} from '../../src/wire/switchml.js';
import { PROTO_SWITCHML } from '../../src/wire/protocols.js';

// A value for every field of a header, in the field's own range.
function reprOf<T extends object>(h: WireHeader<T>): fc.Arbitrary<T> {
  const arbs: Record<string, fc.Arbitrary<number>> = {};
  for (const f of Object.values(h.fields) as Array<WireHeader<T>['fields'][keyof T]>) {
    const bits = 8 * f.bytes;
    arbs[f.name] =
      f.kind === 'float'
        ? fc.double({ noNaN: true })
        : f.kind === 'int'
          ? fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 })
          : fc.integer({ min: 0, max: 2 ** bits - 1 });
  }
  return fc.record(arbs) as unknown as fc.Arbitrary<T>;
}

const headers = [commonHeader, switchmlHeader, ringHeader, moeHeader, flowHeader] as WireHeader<object>[];

describe('wire header views', () => {
  for (const h of headers) {
    describe(h.name, () => {
      it('emit then parse gives back every field, and the view reads what was emitted', () => {
        fc.assert(
          fc.property(reprOf(h), fc.nat({ max: 16 }), (repr, slack) => {
            const frame = new Uint8Array(h.end + slack);
            h.emit(repr, frame);
            expect(h.parse(frame)).toEqual(repr);
            const v = h.view(frame) as unknown as Record<string, number>;
            for (const [k, x] of Object.entries(repr)) expect(v[k]).toBe(x);
          }),
        );
      });

      it('a view writes a field at its declared place and nothing else', () => {
        fc.assert(
          fc.property(reprOf(h), fc.nat(), (repr, pick) => {
            const frame = new Uint8Array(h.end);
            const v = h.view(frame) as unknown as Record<string, number>;
            const names = Object.keys(repr);
            const name = names[pick % names.length]!;
            v[name] = (repr as Record<string, number>)[name]!;
            const f = (h.fields as Record<string, { at: number; bytes: number }>)[name]!;
            frame.forEach((byte, i) => {
              if (i < f.at || i >= f.at + f.bytes) expect(byte).toBe(0);
            });
            expect(h.parse(frame)).toEqual({ ...Object.fromEntries(names.map((n) => [n, 0])), [name]: (repr as Record<string, number>)[name] });
          }),
        );
      });

      it('is bounds-checked: a frame one byte short is refused by view, parse and emit, naming the header', () => {
        const short = new Uint8Array(h.end - 1);
        expect(h.fits(short)).toBe(false);
        expect(() => h.view(short)).toThrow(TruncatedHeaderError);
        expect(() => h.parse(short)).toThrow(`${h.name} header needs ${h.end} bytes`);
        expect(() => h.emit(h.parse(new Uint8Array(h.end)), short)).toThrow(TruncatedHeaderError);
      });
    });
  }

  it('protocol headers sit right after the common header, at the offsets the hosts were written against', () => {
    for (const h of [switchmlHeader, ringHeader, moeHeader, flowHeader]) expect(h.at).toBe(HEADER_BYTES);
    // flow.ts used to spell its offsets by hand: the declared layout keeps them
    expect([FLOW_OFF_JOB, FLOW_OFF_FLOW, FLOW_OFF_VALUE, FLOW_HEADER_BYTES, FLOW_OFF_DATA]).toEqual([
      HEADER_BYTES, HEADER_BYTES + 4, HEADER_BYTES + 8, 12, HEADER_BYTES + 12,
    ]);
    expect([SML_HEADER_BYTES, RING_HEADER_BYTES, MOE_HEADER_BYTES, MOE_OFF_DATA]).toEqual([12, 12, 24, HEADER_BYTES + 24]);
  });

  it('a flow header view reads the big-endian bytes at the documented offsets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (job, flow, value) => {
        const frame = new Uint8Array(FLOW_OFF_DATA);
        const v = flowHeader.view(frame);
        v.job = job;
        v.flow = flow;
        v.value = value;
        expect([readU16(frame, HEADER_BYTES), readU32(frame, HEADER_BYTES + 4), readU32(frame, HEADER_BYTES + 8)]).toEqual([job, flow, value]);
      }),
    );
  });
});

describe('SwitchML frames', () => {
  it('parseSwitchmlFrame gives back what encodeSwitchmlFrame was given', () => {
    fc.assert(
      fc.property(
        fc.record({
          src: fc.integer({ min: 0, max: 0xffffffff }),
          dst: fc.integer({ min: 0, max: 0xffffffff }),
          job: fc.integer({ min: 0, max: 0xffff }),
          kind: fc.integer({ min: 0, max: 0xff }),
          flags: fc.integer({ min: 0, max: 0xff }),
          slot: fc.integer({ min: 0, max: 0xffff }),
          ver: fc.integer({ min: 0, max: 1 }),
          exponent: fc.integer({ min: -128, max: 127 }),
          packet: fc.integer({ min: 0, max: 0xffffffff }),
          values: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 64 }),
        }),
        (i) => {
          const f = encodeSwitchmlFrame({ protocol: PROTO_SWITCHML, ...i });
          const d = parseSwitchmlFrame(f);
          expect(d.common).toMatchObject({ protocol: PROTO_SWITCHML, src: i.src, dst: i.dst, dstPort: i.job, payloadLength: SML_HEADER_BYTES + 4 * i.values.length });
          expect(d.header).toEqual({ kind: i.kind, flags: i.flags, slot: i.slot, ver: i.ver, exponent: i.exponent, elementCount: i.values.length, packet: i.packet });
          expect(d.values).toEqual(i.values);
          expect(readU16(f, SML_OFF_SLOT)).toBe(i.slot);
          expect(f[SML_OFF_EXPONENT]).toBe(i.exponent & 0xff);
        },
      ),
    );
  });

  it('reads no value past the frame when elementCount claims more', () => {
    const f = encodeSwitchmlFrame({ protocol: PROTO_SWITCHML, src: 1, dst: 2, job: 3, kind: 1, slot: 0, ver: 0, packet: 1, values: [5, 6] });
    switchmlHeader.view(f).elementCount = 9;
    expect(parseSwitchmlFrame(f).values).toEqual([5, 6]);
    expect(f.length).toBe(SML_OFF_DATA + 8);
  });
});
