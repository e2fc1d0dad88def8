import * as lo from 'buffer-layout';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { commonHeaderType, declareCommonHeader, verifyCommonHeader } from '../../src/pipeline/common-header.js';
import { HeaderType } from '../../src/pipeline/header.js';
import { Packet } from '../../src/pipeline/packet.js';
import { Parser } from '../../src/pipeline/parser.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { defineProgram, type PipelineEnv } from '../../src/pipeline/program.js';
import { HEADER_BYTES, makeFrame } from '../../src/wire/common-header.js';

function env(portCount = 4): PipelineEnv {
  return { switchName: 'sw', seed: 7, rng: createRng(7), clock: new SimClock(), portCount, queueBytes: () => 0, options: {} };
}

// Two extra headers, declared once with buffer-layout as a program in pipelines/ would.
const tagLayout = lo.struct([lo.u8('kind'), lo.u8('len'), lo.u16be('value')]);
const extLayout = lo.struct([lo.u32be('a'), lo.u32be('b')]);
const TAG_BYTES = 4;
const EXT_BYTES = 8;

const PROTO_TAG = 200; // exact case
const EXT_VALUE = 0x40; // masked case: 0x40..0x4f
const EXT_MASK = 0xf0;
const BOTH_LOW = 100; // range case: 100..150
const BOTH_HIGH = 150;
const PROTO_REJECT = 97; // explicit reject
const TAG_KIND_EXT = 1; // parse_tag selects on tag.kind, with no default

interface Seen {
  common: number;
  tag: number;
  ext: number;
  parsedBytes: number;
  tagKind: number;
  extA: number;
}

/**
 * start: common (verified) -> select protocol { 200: tag; 0x40/0xf0: ext; 100..150: both; 99: reject; default: accept }
 * tag: tag -> select tag.kind { 1: ext } (no default: anything else is NoMatch)
 * ext: ext -> accept
 * both: tag, ext -> accept
 */
function multiStateProgram(seen: Seen[]) {
  return defineProgram<Record<string, never>>({
    name: 'parser-test',
    description: 'multi-state parser',
    metadata: () => ({}),
    build(p) {
      const common = declareCommonHeader(p);
      const tag = p.header('tag', tagLayout);
      const ext = p.header('ext', new HeaderType('ext', extLayout));
      const protocol = commonHeaderType.field('protocol');
      const kind = tag.type.field('kind');
      const a = ext.type.field('a');
      p.parser({
        start: {
          extract: [common],
          verify: verifyCommonHeader,
          select: {
            key: (pkt) => pkt.get(common, protocol),
            cases: [
              { value: PROTO_TAG, next: 'parse_tag' },
              { value: EXT_VALUE, mask: EXT_MASK, next: 'parse_ext' },
              { low: BOTH_LOW, high: BOTH_HIGH, next: 'parse_both' },
              { value: PROTO_REJECT, next: 'reject' },
            ],
            default: 'accept',
          },
        },
        parse_tag: {
          extract: [tag],
          select: { key: (pkt) => pkt.get(tag, kind), cases: [{ value: TAG_KIND_EXT, next: 'parse_ext' }] },
        },
        parse_ext: { extract: [ext], next: 'accept' },
        parse_both: { extract: [tag, ext], next: 'accept' },
      });
      return {
        ingress(pkt) {
          seen.push({
            common: pkt.offsetOf(common),
            tag: pkt.valid(tag) ? pkt.offsetOf(tag) : -1,
            ext: pkt.valid(ext) ? pkt.offsetOf(ext) : -1,
            parsedBytes: pkt.parsedBytes,
            tagKind: pkt.valid(tag) ? pkt.get(tag, kind) : -1,
            extA: pkt.valid(ext) ? pkt.get(ext, a) : -1,
          });
          pkt.sendToPort(0);
        },
      };
    },
  });
}

type Expected = { ok: true; tag: number; ext: number; parsedBytes: number } | { ok: false; kind: string };

/** The parse graph above, written out by hand over raw bytes. */
function expectedParse(b: Uint8Array): Expected {
  if (b.length < HEADER_BYTES) return { ok: false, kind: 'PacketTooShort' };
  if (b[0] !== 1) return { ok: false, kind: 'version' };
  const want = HEADER_BYTES + ((b[20]! << 8) | b[21]!);
  if (want > b.length) return { ok: false, kind: 'truncated' };
  if (want < b.length) return { ok: false, kind: 'length' };
  const proto = b[5]!;
  const need = (n: number): boolean => b.length >= n;
  if (proto === PROTO_TAG) {
    if (!need(HEADER_BYTES + TAG_BYTES)) return { ok: false, kind: 'PacketTooShort' };
    if (b[HEADER_BYTES] !== TAG_KIND_EXT) return { ok: false, kind: 'NoMatch' };
    if (!need(HEADER_BYTES + TAG_BYTES + EXT_BYTES)) return { ok: false, kind: 'PacketTooShort' };
    return { ok: true, tag: HEADER_BYTES, ext: HEADER_BYTES + TAG_BYTES, parsedBytes: HEADER_BYTES + TAG_BYTES + EXT_BYTES };
  }
  if (proto >= 0x40 && proto <= 0x4f) {
    if (!need(HEADER_BYTES + EXT_BYTES)) return { ok: false, kind: 'PacketTooShort' };
    return { ok: true, tag: -1, ext: HEADER_BYTES, parsedBytes: HEADER_BYTES + EXT_BYTES };
  }
  if (proto >= BOTH_LOW && proto <= BOTH_HIGH) {
    if (!need(HEADER_BYTES + TAG_BYTES + EXT_BYTES)) return { ok: false, kind: 'PacketTooShort' };
    return { ok: true, tag: HEADER_BYTES, ext: HEADER_BYTES + TAG_BYTES, parsedBytes: HEADER_BYTES + TAG_BYTES + EXT_BYTES };
  }
  if (proto === PROTO_REJECT) return { ok: false, kind: 'Reject' };
  return { ok: true, tag: -1, ext: -1, parsedBytes: HEADER_BYTES };
}

const protocolArb = fc.oneof(
  fc.constantFrom(PROTO_TAG, PROTO_REJECT, BOTH_LOW, BOTH_HIGH, BOTH_LOW - 1, BOTH_HIGH + 1, 0x40, 0x4f, 0x3f, 0x50, 0xc0, 0),
  fc.integer({ min: 0, max: 255 }),
);

/** Well-formed common headers with a payload that may or may not hold the extra headers. */
const validFrameArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    protocol: protocolArb,
    payload: fc.uint8Array({ maxLength: 20 }),
    tagKind: fc.constantFrom(TAG_KIND_EXT, TAG_KIND_EXT, 0, 2, 255),
    src: fc.integer({ min: 0, max: 0xffffffff }),
    dst: fc.integer({ min: 0, max: 0xffffffff }),
  })
  .map(({ protocol, payload, tagKind, src, dst }) => {
    const f = makeFrame({ protocol, src, dst }, payload.length);
    f.set(payload, HEADER_BYTES);
    if (payload.length > 0) f[HEADER_BYTES] = tagKind;
    return f;
  });

/** Anything: random bytes, valid frames, and valid frames with one byte flipped, cut or added. */
const anyDatagramArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  validFrameArb,
  fc.tuple(validFrameArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })).map(([f, at, v, how]) => {
    if (how === 0) {
      const g = f.slice();
      g[at % g.length] = v;
      return g;
    }
    if (how === 1) return f.slice(0, at % (f.length + 1));
    const g = new Uint8Array(f.length + 1 + (at % 4));
    g.set(f);
    return g;
  }),
);

describe('multi-state parser through the engine', () => {
  it('accepts generated well-formed frames and sets validity and offsets of each header', () => {
    fc.assert(
      fc.property(
        protocolArb.filter((p) => p !== PROTO_REJECT),
        fc.uint8Array({ minLength: TAG_BYTES + EXT_BYTES, maxLength: 30 }),
        (protocol, payload) => {
          const seen: Seen[] = [];
          const pipe = new Pipeline(multiStateProgram(seen), env());
          const f = makeFrame({ protocol, src: 1, dst: 2 }, payload.length);
          f.set(payload, HEADER_BYTES);
          f[HEADER_BYTES] = TAG_KIND_EXT;
          const out: number[] = [];
          pipe.process(f, 1, (port) => out.push(port));
          const want = expectedParse(f);
          expect(want.ok).toBe(true);
          if (!want.ok) return;
          expect(pipe.drops.parser).toBe(0);
          expect(out).toEqual([0]);
          expect(seen).toHaveLength(1);
          const s = seen[0]!;
          expect(s.common).toBe(0);
          expect(s.tag).toBe(want.tag);
          expect(s.ext).toBe(want.ext);
          expect(s.parsedBytes).toBe(want.parsedBytes);
          if (want.tag >= 0) expect(s.tagKind).toBe(TAG_KIND_EXT);
          if (want.ext >= 0) {
            const at = want.ext;
            expect(s.extA).toBe(((f[at]! << 24) | (f[at + 1]! << 16) | (f[at + 2]! << 8) | f[at + 3]!) >>> 0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('exercises each select case: exact, masked, range, reject and default', () => {
    const seen: Seen[] = [];
    const pipe = new Pipeline(multiStateProgram(seen), env());
    const frame = (protocol: number): Uint8Array => {
      const f = makeFrame({ protocol, src: 1, dst: 2 }, TAG_BYTES + EXT_BYTES);
      f[HEADER_BYTES] = TAG_KIND_EXT;
      return f;
    };
    const run = (protocol: number): Seen | string => {
      seen.length = 0;
      const f = frame(protocol);
      pipe.process(f, 0, () => {});
      return seen[0] ?? 'rejected';
    };
    const T = HEADER_BYTES;
    expect(run(PROTO_TAG)).toMatchObject({ tag: T, ext: T + TAG_BYTES }); // exact, then tag.kind
    expect(run(0x47)).toMatchObject({ tag: -1, ext: T }); // masked
    expect(run(0x4f)).toMatchObject({ tag: -1, ext: T });
    expect(run(0x50)).toMatchObject({ tag: -1, ext: -1 }); // outside the mask: default
    expect(run(BOTH_LOW)).toMatchObject({ tag: T, ext: T + TAG_BYTES }); // range, both ends inclusive
    expect(run(BOTH_HIGH)).toMatchObject({ tag: T, ext: T + TAG_BYTES });
    expect(run(BOTH_HIGH + 1)).toMatchObject({ tag: -1, ext: -1, parsedBytes: T });
    expect(run(BOTH_LOW - 1)).toMatchObject({ tag: -1, ext: -1 });
    expect(run(PROTO_REJECT)).toBe('rejected');
    expect(Object.fromEntries(pipe.parser.errors)).toEqual({ Reject: 1 });
  });

  it('a select with no default and no matching case rejects with NoMatch', () => {
    const seen: Seen[] = [];
    const pipe = new Pipeline(multiStateProgram(seen), env());
    for (const kind of [0, 2, 255]) {
      const f = makeFrame({ protocol: PROTO_TAG, src: 1, dst: 2 }, TAG_BYTES + EXT_BYTES);
      f[HEADER_BYTES] = kind;
      pipe.process(f, 0, () => {
        throw new Error('must not be emitted');
      });
    }
    expect(seen).toEqual([]);
    expect(pipe.drops.parser).toBe(3);
    expect(Object.fromEntries(pipe.parser.errors)).toEqual({ NoMatch: 3 });
  });

  it('never throws on arbitrary bytes; rejections match the reference and are all counted by kind', () => {
    fc.assert(
      fc.property(fc.array(anyDatagramArb, { minLength: 1, maxLength: 30 }), (frames) => {
        const seen: Seen[] = [];
        const pipe = new Pipeline(multiStateProgram(seen), env());
        const wantErrors = new Map<string, number>();
        let rejected = 0;
        let emitted = 0;
        for (const f of frames) {
          const want = expectedParse(f);
          const before = seen.length;
          expect(() => pipe.process(f, 2, () => emitted++)).not.toThrow();
          if (want.ok) {
            expect(seen.length).toBe(before + 1);
            expect(seen[before]).toMatchObject({ common: 0, tag: want.tag, ext: want.ext, parsedBytes: want.parsedBytes });
          } else {
            expect(seen.length).toBe(before);
            rejected++;
            wantErrors.set(want.kind, (wantErrors.get(want.kind) ?? 0) + 1);
          }
        }
        expect(pipe.drops.error).toBe(0);
        expect(pipe.drops.parser).toBe(rejected);
        expect(emitted).toBe(frames.length - rejected);
        let sum = 0;
        for (const n of pipe.parser.errors.values()) sum += n;
        expect(sum).toBe(rejected);
        expect(new Map([...pipe.parser.errors].sort())).toEqual(new Map([...wantErrors].sort()));
      }),
      { numRuns: 300 },
    );
  });

  it('the arbitrary-bytes generator reaches every rejection kind (so the property is not vacuous)', () => {
    const kinds = new Set<string>();
    fc.assert(
      fc.property(anyDatagramArb, (f) => {
        const w = expectedParse(f);
        kinds.add(w.ok ? 'accept' : w.kind);
      }),
      { numRuns: 3000, seed: 1 },
    );
    expect([...kinds].sort()).toEqual(['NoMatch', 'PacketTooShort', 'Reject', 'accept', 'length', 'truncated', 'version']);
  });

  it('a rejected packet sets pkt.parserError, and the next accepted one clears it', () => {
    const seen: Seen[] = [];
    const program = multiStateProgram(seen);
    const pipe = new Pipeline(program, env());
    const errs: Array<string | null> = [];
    // Parser used directly on a Packet, with the header refs the program declared.
    const pkt = new Packet<Record<string, never>>(3, {});
    const good = makeFrame({ protocol: 1, src: 1, dst: 1 }, 0);
    const bad = good.slice(0, HEADER_BYTES - 1);
    for (const f of [bad, good]) {
      pkt.reset(f, 0, 0, 0);
      pipe.parser.parse(pkt);
      errs.push(pkt.parserError);
    }
    expect(errs).toEqual(['PacketTooShort', null]);
    expect(pkt.hdrOffset[0]).toBe(0);
    expect(pkt.hdrOffset[1]).toBe(-1);
  });
});

describe('Parser state machine', () => {
  const hdr = (index: number, name: string) => ({ index, name, type: new HeaderType(name, lo.struct([lo.u8('x'), lo.u8('y')])) });

  it('first matching case wins, in declaration order', () => {
    const h = hdr(0, 'h');
    const x = h.type.field('x');
    const parser = new Parser<unknown>({
      start: {
        extract: [h],
        select: {
          key: (pkt) => pkt.get(h, x),
          cases: [
            { low: 10, high: 20, next: 'accept' },
            { value: 15, next: 'reject' },
            { value: 0, mask: 0, next: 'reject' }, // matches everything
          ],
          default: 'accept',
        },
      },
    });
    const pkt = new Packet(1, {});
    const run = (x: number): boolean => {
      pkt.reset(Uint8Array.of(x, 0), 0, 0, 0);
      return parser.parse(pkt);
    };
    expect(run(15)).toBe(true);
    expect(run(10)).toBe(true);
    expect(run(21)).toBe(false);
    expect(run(9)).toBe(false);
    expect(Object.fromEntries(parser.errors)).toEqual({ Reject: 2 });
  });

  it('masked cases compare only the masked bits, keys are unsigned 32-bit', () => {
    const parser = new Parser<unknown>({
      start: {
        select: {
          key: (pkt) => (pkt.buf[0]! === 1 ? -1 : pkt.buf[0]! << 24),
          cases: [
            { value: 0xffffffff, next: 'accept' },
            { value: 0x80000000, mask: 0x80000000, next: 'accept' },
          ],
        },
      },
    });
    const pkt = new Packet(0, {});
    const run = (b0: number): boolean => {
      pkt.reset(Uint8Array.of(b0), 0, 0, 0);
      return parser.parse(pkt);
    };
    expect(run(1)).toBe(true); // -1 >>> 0 === 0xffffffff
    expect(run(0x80)).toBe(true);
    expect(run(0xff)).toBe(true);
    expect(run(0x7f)).toBe(false);
    expect(Object.fromEntries(parser.errors)).toEqual({ NoMatch: 1 });
  });

  it('verify rejects with its own error kind; a loop without progress ends in LoopLimit', () => {
    const h = hdr(0, 'h');
    const parser = new Parser<unknown>({
      start: { extract: [h], verify: (pkt) => (pkt.buf[0] === 0 ? 'BadZero' : null), select: { key: (pkt) => pkt.buf[1]!, cases: [{ value: 1, next: 'spin' }], default: 'accept' } },
      spin: { next: 'spin' },
    });
    const pkt = new Packet(1, {});
    for (const b of [Uint8Array.of(0, 0), Uint8Array.of(5, 1), Uint8Array.of(5, 0), Uint8Array.of(5)]) {
      pkt.reset(b, 0, 0, 0);
      parser.parse(pkt);
    }
    expect(Object.fromEntries(parser.errors)).toEqual({ BadZero: 1, LoopLimit: 1, PacketTooShort: 1 });
  });

  it('refuses a spec naming an unknown state, or a state with both select and next', () => {
    expect(() => new Parser<unknown>({ start: { next: 'nowhere' } })).toThrow(/start.*nowhere/);
    expect(
      () => new Parser<unknown>({ start: { select: { key: () => 0, cases: [{ value: 0, next: 'missing' }] } } }),
    ).toThrow(/missing/);
    expect(() => new Parser<unknown>({ start: { select: { key: () => 0, cases: [] }, next: 'accept' } })).toThrow(/both select and next/);
  });
});
