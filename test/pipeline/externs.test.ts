import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/net/rng.js';
import { Counter, type CounterType, DirectCounter } from '../../src/pipeline/externs/counter.js';
import { Hash } from '../../src/pipeline/externs/hash.js';
import { RandomExtern } from '../../src/pipeline/externs/random.js';
import { Register } from '../../src/pipeline/externs/register.js';

describe('Register', () => {
  type Op = { op: 'write' | 'add' | 'max' | 'rmw'; i: number; v: number };
  const opArb = (size: number): fc.Arbitrary<Op> =>
    fc.record({
      op: fc.constantFrom('write', 'add', 'max', 'rmw'),
      i: fc.nat({ max: size - 1 }),
      v: fc.oneof(fc.integer({ min: -(2 ** 32), max: 2 ** 32 }), fc.constantFrom(0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 255, 128, -128)),
    });

  it('wraps every operation to the width (two\'s complement when signed), like BigInt.asIntN/asUintN', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.boolean(), fc.integer({ min: 1, max: 4 }).chain((size) => fc.tuple(fc.constant(size), fc.array(opArb(size), { maxLength: 40 }))), (width, signed, [size, ops]) => {
        const reg = new Register('r', width, size, signed);
        const wrap = (x: bigint): bigint => (signed ? BigInt.asIntN(width, x) : BigInt.asUintN(width, x));
        const ref: bigint[] = new Array(size).fill(0n);
        for (const { op, i, v } of ops) {
          const big = BigInt(v);
          if (op === 'write') {
            reg.write(i, v);
            ref[i] = wrap(big);
          } else if (op === 'add') {
            ref[i] = wrap(ref[i]! + big);
            expect(reg.add(i, v)).toBe(Number(ref[i]));
          } else if (op === 'max') {
            const w = wrap(big);
            if (w > ref[i]!) ref[i] = w;
            expect(reg.max(i, v)).toBe(Number(ref[i]));
          } else {
            const old = ref[i]!;
            ref[i] = wrap(old * 3n + big);
            expect(reg.rmw(i, (o) => o * 3 + v)).toBe(Number(old));
          }
          for (let k = 0; k < size; k++) expect(reg.read(k)).toBe(Number(ref[k]));
        }
        expect(reg.readAll()).toEqual(ref.map(Number));
      }),
    );
  });

  it('signed 32-bit add overflows to the most negative value; 8-bit unsigned wraps to 0', () => {
    const s = new Register('s', 32, 1, true);
    s.write(0, 2 ** 31 - 1);
    expect(s.add(0, 1)).toBe(-(2 ** 31));
    expect(s.add(0, -1)).toBe(2 ** 31 - 1);
    const u = new Register('u', 8, 1);
    u.write(0, 255);
    expect(u.add(0, 1)).toBe(0);
    expect(u.rmw(0, (o) => o - 1)).toBe(0);
    expect(u.read(0)).toBe(255);
    const s8 = new Register('s8', 8, 1, true);
    s8.write(0, 127);
    expect(s8.add(0, 1)).toBe(-128);
  });

  it('out-of-range index is a RangeError naming register and index; bits and reset', () => {
    const r = new Register('agg_slots', 16, 10);
    expect(r.bits).toBe(160);
    for (const bad of [-1, 10, 1.5, Number.NaN, 2 ** 32]) {
      expect(() => r.read(bad)).toThrow(RangeError);
      expect(() => r.write(bad, 1)).toThrow(/register agg_slots: index .* out of range/);
      expect(() => r.add(bad, 1)).toThrow(String(bad));
    }
    r.write(9, 5);
    r.reset();
    expect(r.read(9)).toBe(0);
    expect(() => new Register('w', 33, 1)).toThrow(/register w: width 33/);
  });
});

describe('Counter', () => {
  it('sums packets and bytes per index, counting only what its type counts', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CounterType>('packets', 'bytes', 'packets_and_bytes'),
        fc.array(fc.tuple(fc.nat({ max: 4 }), fc.integer({ min: 0, max: 9000 })), { maxLength: 100 }),
        (type, events) => {
          const c = new Counter('c', 5, type);
          const d = new DirectCounter('d', type);
          const cells = [0, 1, 2, 3, 4].map(() => d.cell());
          const ref = [0, 1, 2, 3, 4].map(() => ({ packets: 0, bytes: 0 }));
          for (const [i, bytes] of events) {
            c.count(i, bytes);
            d.count(cells[i]!, bytes);
            if (type !== 'bytes') ref[i]!.packets += 1;
            if (type !== 'packets') ref[i]!.bytes += bytes;
          }
          for (let i = 0; i < 5; i++) {
            expect(c.read(i)).toEqual(ref[i]);
            expect(d.read(cells[i]!)).toEqual(ref[i]);
          }
          c.reset();
          d.reset(cells[0]!);
          expect(c.read(0)).toEqual({ packets: 0, bytes: 0 });
          expect(d.read(cells[0]!)).toEqual({ packets: 0, bytes: 0 });
        },
      ),
    );
  });

  it('counts past 2^32 exactly and rejects bad indexes by name', () => {
    const c = new Counter('port_bytes', 2, 'packets_and_bytes');
    c.write(1, { packets: 2 ** 32 - 1, bytes: 2 ** 40 });
    c.count(1, 1500);
    expect(c.read(1)).toEqual({ packets: 2 ** 32, bytes: 2 ** 40 + 1500 });
    expect(() => c.count(2, 1)).toThrow(/counter port_bytes: index 2/);
    expect(() => c.read(-1)).toThrow(RangeError);
  });
});

// A bit-at-a-time CRC straight from the Rocksoft parameter model, sharing nothing with the
// table-driven implementation: reflect the input, divide MSB-first, reflect the remainder.
function refCrc(width: number, poly: number, init: number, xorOut: number, bytes: Uint8Array): number {
  const top = 1n << BigInt(width - 1);
  const mask = (1n << BigInt(width)) - 1n;
  const reflect = (v: bigint, bits: number): bigint => {
    let r = 0n;
    for (let i = 0; i < bits; i++) if ((v >> BigInt(i)) & 1n) r |= 1n << BigInt(bits - 1 - i);
    return r;
  };
  let reg = reflect(BigInt(init), width); // init is given in the reflected (register) domain
  for (const b of bytes) {
    reg ^= reflect(BigInt(b), 8) << BigInt(width - 8);
    for (let k = 0; k < 8; k++) reg = reg & top ? ((reg << 1n) ^ BigInt(poly)) & mask : (reg << 1n) & mask;
  }
  return Number(reflect(reg, width) ^ BigInt(xorOut));
}
const refCrc32 = (b: Uint8Array, seed = 0): number => refCrc(32, 0x04c11db7, (0xffffffff ^ seed) >>> 0, 0xffffffff, b);
const refCrc16 = (b: Uint8Array, seed = 0): number => refCrc(16, 0x8005, (seed ^ (seed >>> 16)) & 0xffff, 0, b);

function beBytes(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0));
  return out;
}

describe('Hash', () => {
  const check = new TextEncoder().encode('123456789');

  it('published check values: crc32 0xCBF43926, CRC-16/ARC 0xBB3D', () => {
    expect(new Hash('crc32').ofBytes(check, 0, check.length)).toBe(0xcbf43926);
    expect(new Hash('crc16').ofBytes(check, 0, check.length)).toBe(0xbb3d);
    // and the bit-at-a-time reference agrees with them, so it can judge the rest
    expect(refCrc32(check)).toBe(0xcbf43926);
    expect(refCrc16(check)).toBe(0xbb3d);
  });

  it('matches zlib crc32 and a bitwise reference for any bytes, offset and seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(), fc.nat({ max: 0xffffffff }), (bytes, a, b, seed) => {
        const off = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const len = (bytes.length - off) === 0 ? 0 : b % (bytes.length - off + 1);
        const view = bytes.subarray(off, off + len);
        expect(new Hash('crc32').ofBytes(bytes, off, len)).toBe(zlibCrc32(view));
        expect(new Hash('crc32', seed).ofBytes(bytes, off, len)).toBe(refCrc32(view, seed));
        expect(new Hash('crc16', seed).ofBytes(bytes, off, len)).toBe(refCrc16(view, seed));
      }),
    );
  });

  it('ofWords hashes words as big-endian bytes, for every algorithm', () => {
    fc.assert(
      fc.property(fc.constantFrom('crc16', 'crc32', 'identity' as const), fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 12 }), fc.nat({ max: 0xffffffff }), (algo, words, seed) => {
        const h = new Hash(algo, seed);
        const bytes = beBytes(words);
        expect(h.ofWords(words, words.length)).toBe(h.ofBytes(bytes, 0, bytes.length));
        expect(h.ofWords(Uint32Array.from(words), words.length)).toBe(h.ofWords(Int32Array.from(words), words.length));
        // count limits how much is read
        expect(h.ofWords([...words, 7, 8], words.length)).toBe(h.ofWords(words, words.length));
      }),
    );
  });

  it('a different seed gives a different crc (the register differs by an invertible map)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (bytes, s1, s2) => {
        fc.pre(s1 !== s2);
        expect(new Hash('crc32', s1).ofBytes(bytes, 0, bytes.length)).not.toBe(new Hash('crc32', s2).ofBytes(bytes, 0, bytes.length));
        const fold = (s: number): number => (s ^ (s >>> 16)) & 0xffff;
        if (fold(s1) !== fold(s2)) {
          expect(new Hash('crc16', s1).ofBytes(bytes, 0, bytes.length)).not.toBe(new Hash('crc16', s2).ofBytes(bytes, 0, bytes.length));
        }
      }),
    );
  });

  it('identity is the leading 32 bits as an integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9 }), (bytes) => {
        let want = 0n;
        for (const b of bytes.subarray(0, 4)) want = (want << 8n) | BigInt(b);
        expect(new Hash('identity').ofBytes(bytes, 0, bytes.length)).toBe(Number(want));
      }),
    );
    expect(new Hash('identity').ofWords([0xdeadbeef, 1], 2)).toBe(0xdeadbeef);
    expect(new Hash('identity').ofWords([-1], 1)).toBe(0xffffffff);
  });

  it('rejects out-of-buffer ranges', () => {
    expect(() => new Hash('crc32').ofBytes(new Uint8Array(4), 2, 3)).toThrow(RangeError);
  });
});

describe('RandomExtern', () => {
  it('stays within [lo, hi] for any bounds, including the full 32-bit range', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.nat({ max: 0xffffffff }), fc.nat(), (lo, span, seed) => {
        const r = new RandomExtern(createRng(seed));
        for (let k = 0; k < 20; k++) {
          const v = r.read(lo, lo + span);
          expect(Number.isInteger(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(lo + span);
        }
      }),
    );
  });

  it('hits every value of a small range about equally (fixed seed)', () => {
    const r = new RandomExtern(createRng(7).fork('random-extern'));
    const counts = new Map<number, number>();
    const N = 6000;
    for (let k = 0; k < N; k++) {
      const v = r.read(3, 8);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([3, 4, 5, 6, 7, 8]);
    for (const c of counts.values()) expect(Math.abs(c / N - 1 / 6)).toBeLessThan(0.03);
  });

  it('replays from the same seed and refuses bad bounds', () => {
    const a = new RandomExtern(createRng(1));
    const b = new RandomExtern(createRng(1));
    for (let k = 0; k < 50; k++) expect(a.read(0, 1000)).toBe(b.read(0, 1000));
    expect(a.read(5, 5)).toBe(5);
    expect(() => a.read(2, 1)).toThrow(RangeError);
    expect(() => a.read(0, 1.5)).toThrow(RangeError);
    expect(() => a.read(0, 2 ** 32)).toThrow(RangeError);
  });
});
