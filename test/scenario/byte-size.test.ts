import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BYTE_UNITS, ByteSizeError, formatByteSize, parseByteSize } from '../../src/scenario/byte-size.js';

describe('parseByteSize', () => {
  it('reads the spellings scenario files use', () => {
    expect(parseByteSize(4194304)).toBe(4194304);
    expect(parseByteSize('4MiB')).toBe(4 * 2 ** 20);
    expect(parseByteSize('512KiB')).toBe(512 * 1024);
    expect(parseByteSize('1GiB')).toBe(2 ** 30);
    expect(parseByteSize('100KB')).toBe(100_000);
    expect(parseByteSize('1MB')).toBe(1_000_000);
    expect(parseByteSize('1.5MiB')).toBe(1572864);
    expect(parseByteSize('1.1KB')).toBe(1100); // exact, not 1100.0000000000002
    expect(parseByteSize('4 MiB')).toBe(4 * 2 ** 20);
    expect(parseByteSize('1024')).toBe(1024);
    expect(parseByteSize('64B')).toBe(64);
    expect(parseByteSize(0)).toBe(0);
  });

  it('rejects everything else with the expectation spelled out', () => {
    for (const bad of ['4 megs', '4mib', '4mb', 'MiB', '', '-1KiB', '1e6', '0x10', '4MiBs', '1..5MiB', null, true, [], {}, NaN, Infinity, -1]) {
      expect(() => parseByteSize(bad), String(bad)).toThrow(ByteSizeError);
    }
    expect(() => parseByteSize('4 megs')).toThrow('expected an integer or a size like 4MiB, got "4 megs"');
    expect(() => parseByteSize('0.3KiB')).toThrow(/whole number of bytes/);
    expect(() => parseByteSize(1.5)).toThrow(/whole number of bytes/);
    expect(() => parseByteSize('10000TiB')).toThrow(/at most/);
  });

  it('property: integers, integer multiples of every unit, and halves of binary units', () => {
    const units = Object.keys(BYTE_UNITS);
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(parseByteSize(n)).toBe(n);
        expect(parseByteSize(String(n))).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.nat({ max: 4095 }), fc.constantFrom(...units), (m, unit) => {
        expect(parseByteSize(`${m}${unit}`)).toBe(m * BYTE_UNITS[unit]!);
        if (unit.endsWith('iB')) expect(parseByteSize(`${m}.5${unit}`)).toBe(m * BYTE_UNITS[unit]! + BYTE_UNITS[unit]! / 2);
      }),
    );
  });

  it('property: formatByteSize is exact and parses back', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(parseByteSize(formatByteSize(n))).toBe(n);
      }),
    );
    expect(formatByteSize(4194304)).toBe('4MiB');
    expect(formatByteSize(100_000)).toBe('100KB');
    expect(formatByteSize(1500)).toBe('1500B');
  });

  it('property: random text is either a valid size or a ByteSizeError, never a wrong number', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (s) => {
        try {
          const n = parseByteSize(s);
          expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
          expect(s).toMatch(/^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/);
        } catch (e) {
          expect(e).toBeInstanceOf(ByteSizeError);
        }
      }),
    );
  });
});
