/**
 * The control channel's value codec: what crosses a process boundary reads back the same,
 * including what plain JSON drops, and the text is one line.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, fromWire, toWire } from '../../src/cluster/codec.js';

const SPECIAL_NUMBERS = [-0, 0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -1.5];

const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(...SPECIAL_NUMBERS));

/** Strings biased toward what could break a newline-delimited channel. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('\n', '\r\n', 'a\nb', '\u2028', '\u2029', '"\\n"', '{"$":"big","v":"1"}', '$', 'v', ''),
);

/** Object keys: anything but the prototype setter (see the report on `__proto__`). */
const key = text.filter((k) => k !== '__proto__');

const primitive = fc.oneof(number, text, fc.boolean(), fc.constant(null), fc.bigInt());

const typedArray = fc.oneof(
  fc.uint8Array({ maxLength: 16 }),
  fc.int32Array({ maxLength: 16 }),
  fc.float32Array({ maxLength: 16 }),
  fc.float64Array({ maxLength: 16 }),
  fc.array(fc.integer({ min: -128, max: 127 }), { maxLength: 8 }).map((xs) => Int8Array.from(xs)),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 }).map((xs) => Uint16Array.from(xs)),
  fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 8 }).map((xs) => Uint32Array.from(xs)),
  fc.array(fc.integer({ min: -0x8000, max: 0x7fff }), { maxLength: 8 }).map((xs) => Int16Array.from(xs)),
);

const error = fc.tuple(fc.constantFrom('Error', 'RangeError', 'AggregationUnavailableError', 'Custom'), text).map(([name, message]) => {
  const e = new Error(message);
  e.name = name;
  return e;
});

/** Nested values, depth-bounded. Objects never hold undefined (that is tested on its own). */
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    primitive,
    typedArray,
    error,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((kv) => new Map(kv)),
    fc.array(tie('value'), { maxLength: 4 }).map((xs) => new Set(xs)),
  ),
}));

/**
 * Structural equality that tells -0 from 0, NaN from everything but NaN, typed-array kinds
 * apart, and compares Errors by name and message.
 */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Error) return a.name === (b as Error).name && a.message === (b as Error).message;
  if (a instanceof Map) {
    const bs = [...(b as Map<unknown, unknown>)];
    const as = [...a];
    return as.length === bs.length && as.every(([k, v], i) => same(k, bs[i]![0]) && same(v, bs[i]![1]));
  }
  if (a instanceof Set) {
    const as = [...a];
    const bs = [...(b as Set<unknown>)];
    return as.length === bs.length && as.every((x, i) => same(x, bs[i]));
  }
  if (Array.isArray(a) || ArrayBuffer.isView(a)) {
    const as = Array.from(a as ArrayLike<unknown>);
    const bs = Array.from(b as ArrayLike<unknown>);
    return as.length === bs.length && as.every((x, i) => same(x, bs[i]));
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  return ak.length === bk.length && ak.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

describe('codec', () => {
  it('decode(encode(v)) is v for nested Maps, Sets, bigints, typed arrays, special numbers and Errors', () => {
    fc.assert(
      fc.property(value, (v) => {
        const back = decode(encode(v));
        expect(same(v, back)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('fromWire(toWire(v)) is v, and toWire gives plain JSON data', () => {
    fc.assert(
      fc.property(value, (v) => {
        const wire = toWire(v);
        // JSON-safe: stringify/parse changes nothing
        expect(JSON.parse(JSON.stringify(wire))).toEqual(wire);
        expect(same(v, fromWire(wire))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the encoded text never holds a raw line break (the channel is newline-delimited)', () => {
    fc.assert(
      fc.property(value, (v) => {
        const s = encode(v);
        expect(s).not.toMatch(/[\n\r]/);
      }),
      { numRuns: 500 },
    );
    expect(encode({ 'k\ney': 'a\nb\r\nc', m: new Map([['x\n', new Set(['\n'])]]) })).not.toMatch(/[\n\r]/);
  });

  it('drops undefined-valued object keys, keeps undefined elsewhere', () => {
    fc.assert(
      fc.property(fc.dictionary(key, fc.option(fc.integer(), { nil: undefined }), { maxKeys: 6, noNullPrototype: true }), (o) => {
        const back = decode(encode(o)) as Record<string, unknown>;
        const kept = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
        expect(Object.keys(back).sort()).toEqual(Object.keys(kept).sort());
        expect(back).toEqual(kept);
      }),
    );
    const back = decode(encode({ a: undefined, b: [undefined, 1], c: new Map([['k', undefined]]) })) as Record<string, unknown>;
    expect('a' in back).toBe(false);
    expect(back.b).toEqual([undefined, 1]);
    expect((back.c as Map<string, unknown>).has('k')).toBe(true);
    expect(decode(encode(undefined))).toBeUndefined();
  });

  it('keeps -0, NaN and ±Infinity at top level, in arrays, Maps and Float arrays', () => {
    for (const x of [-0, NaN, Infinity, -Infinity]) {
      expect(Object.is(decode(encode(x)), x)).toBe(true);
      expect(Object.is((decode(encode([x])) as number[])[0], x)).toBe(true);
      expect(Object.is((decode(encode(new Map([[x, x]]))) as Map<number, number>).get(x), x)).toBe(true);
      for (const T of [Float32Array, Float64Array]) {
        const back = decode(encode(T.from([x]))) as Float32Array | Float64Array;
        expect(back).toBeInstanceOf(T);
        expect(Object.is(back[0], x)).toBe(true);
      }
    }
  });

  it('keeps typed-array kinds and contents', () => {
    const cases = [
      new Uint8Array([0, 1, 255]),
      new Int8Array([-128, 0, 127]),
      new Int16Array([-32768, 32767]),
      new Uint16Array([65535]),
      new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
      new Uint32Array([2 ** 32 - 1]),
      new Float32Array([1.5, -0]),
      new Float64Array([Math.PI, -Infinity]),
    ];
    for (const c of cases) {
      const back = decode(encode(c)) as ArrayLike<number>;
      expect(back.constructor).toBe(c.constructor);
      expect(same(c, back)).toBe(true);
    }
    // a view on part of a buffer carries only its own bytes
    const buf = new Uint8Array([9, 9, 1, 2, 3, 9]);
    expect(decode(encode(buf.subarray(2, 5)))).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('keeps bigints of any size and sign', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (b) => {
        expect(decode(encode(b))).toBe(b);
      }),
    );
  });

  it('keeps an Error\'s name and message (and class Error)', () => {
    const e = new RangeError('bad\nthing');
    const back = decode(encode({ e })) as { e: Error };
    expect(back.e).toBeInstanceOf(Error);
    expect(back.e.name).toBe('RangeError');
    expect(back.e.message).toBe('bad\nthing');
  });
});

describe('codec: data that looks like its own tags', () => {
  it('a plain object with a "$" key, or an own "__proto__" key, comes back as it went', () => {
    for (const v of [{ $: 'big', v: '5' }, { $: 'undef', v: 0 }, { $: 1 }, JSON.parse('{"__proto__":{"x":1},"a":2}') as object]) {
      const back = decode(encode(v)) as Record<string, unknown>;
      expect(Object.keys(back).sort()).toEqual(Object.keys(v).sort());
      for (const k of Object.keys(v)) expect(Object.getOwnPropertyDescriptor(back, k)?.value).toEqual((v as Record<string, unknown>)[k]);
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    }
  });

  it('Uint8ClampedArray, BigInt64Array and DataView keep their type and bytes', () => {
    const bytes = new Uint8Array([1, 2, 255, 0, 7]);
    const back = decode(encode({ c: new Uint8ClampedArray([0, 128, 255]), b: new BigInt64Array([-1n, 2n ** 62n]), d: new DataView(bytes.buffer, 1, 3) })) as {
      c: Uint8ClampedArray;
      b: BigInt64Array;
      d: DataView;
    };
    expect(back.c).toEqual(new Uint8ClampedArray([0, 128, 255]));
    expect(back.b).toEqual(new BigInt64Array([-1n, 2n ** 62n]));
    expect(back.d).toBeInstanceOf(DataView);
    expect([...new Uint8Array(back.d.buffer, back.d.byteOffset, back.d.byteLength)]).toEqual([2, 255, 0]);
  });
});
