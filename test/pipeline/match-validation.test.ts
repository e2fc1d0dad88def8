import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MatchTable } from '../../src/pipeline/match-table.js';
import { type FieldMatch, type KeyFieldSpec, type MatchKind, TableError } from '../../src/pipeline/match-types.js';

function caught(fn: () => unknown): TableError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TableError);
    return e as TableError;
  }
  throw new Error('expected a TableError, nothing was thrown');
}

const LPM_KEYS: KeyFieldSpec[] = [
  { name: 'meta.vrf', match: 'exact', width: 8 },
  { name: 'hdr.dst', match: 'lpm', width: 32 },
];
const ACL_KEYS: KeyFieldSpec[] = [
  { name: 'hdr.proto', match: 'ternary', width: 8 },
  { name: 'hdr.dport', match: 'range', width: 16 },
  { name: 'meta.in', match: 'optional', width: 4 },
  { name: 'hdr.src', match: 'lpm', width: 32 },
];

const lpm = (): MatchTable<string> => new MatchTable<string>('ipv4_lpm', LPM_KEYS, 8);
const acl = (): MatchTable<string> => new MatchTable<string>('acl', ACL_KEYS, 8);
const ex = (value: number): FieldMatch => ({ kind: 'exact', value });
const W: FieldMatch = { kind: 'wildcard' };

interface Case {
  what: string;
  table: () => MatchTable<string>;
  match: FieldMatch[];
  priority: number;
  field?: string;
}

const BAD: Case[] = [
  { what: 'too few fields', table: lpm, match: [ex(1)], priority: 0 },
  { what: 'too many fields', table: lpm, match: [ex(1), W, W], priority: 0 },
  { what: 'ternary on an exact field', table: lpm, match: [{ kind: 'ternary', value: 1, mask: 1 }, W], priority: 0, field: 'meta.vrf' },
  { what: 'wildcard on an exact field', table: lpm, match: [W, W], priority: 0, field: 'meta.vrf' },
  { what: 'exact on an lpm field', table: lpm, match: [ex(1), ex(1)], priority: 0, field: 'hdr.dst' },
  { what: 'exact value too wide', table: lpm, match: [ex(256), W], priority: 0, field: 'meta.vrf' },
  { what: 'negative value', table: lpm, match: [ex(-1), W], priority: 0, field: 'meta.vrf' },
  { what: 'fractional value', table: lpm, match: [ex(1.5), W], priority: 0, field: 'meta.vrf' },
  { what: 'prefixLen beyond width', table: lpm, match: [ex(1), { kind: 'lpm', value: 0, prefixLen: 40 }], priority: 0, field: 'hdr.dst' },
  { what: 'negative prefixLen', table: lpm, match: [ex(1), { kind: 'lpm', value: 0, prefixLen: -1 }], priority: 0, field: 'hdr.dst' },
  { what: 'bits beyond the prefix', table: lpm, match: [ex(1), { kind: 'lpm', value: 0x0a000001, prefixLen: 8 }], priority: 0, field: 'hdr.dst' },
  { what: 'lpm value too wide', table: lpm, match: [ex(1), { kind: 'lpm', value: 2 ** 32, prefixLen: 32 }], priority: 0, field: 'hdr.dst' },
  { what: 'priority on an lpm table', table: lpm, match: [ex(1), W], priority: 5 },
  { what: 'ternary value outside mask', table: acl, match: [{ kind: 'ternary', value: 0x11, mask: 0x0f }, W, W, W], priority: 1, field: 'hdr.proto' },
  { what: 'ternary mask too wide', table: acl, match: [{ kind: 'ternary', value: 0, mask: 0x1ff }, W, W, W], priority: 1, field: 'hdr.proto' },
  { what: 'range low > high', table: acl, match: [W, { kind: 'range', low: 9, high: 3 }, W, W], priority: 1, field: 'hdr.dport' },
  { what: 'range high too wide', table: acl, match: [W, { kind: 'range', low: 0, high: 0x10000 }, W, W], priority: 1, field: 'hdr.dport' },
  { what: 'optional value too wide', table: acl, match: [W, W, { kind: 'optional', value: 16 }, W], priority: 1, field: 'meta.in' },
  { what: 'range on an optional field', table: acl, match: [W, W, { kind: 'range', low: 0, high: 1 }, W], priority: 1, field: 'meta.in' },
  { what: 'priority 0 on a ternary table', table: acl, match: [W, W, W, W], priority: 0 },
  { what: 'negative priority', table: acl, match: [W, W, W, W], priority: -3 },
  { what: 'fractional priority', table: acl, match: [W, W, W, W], priority: 1.5 },
  { what: 'priority beyond int32', table: acl, match: [W, W, W, W], priority: 2 ** 31 },
];

describe('MatchTable validation', () => {
  for (const c of BAD) {
    it(`${c.what}: INVALID_ARGUMENT naming table${c.field ? ' and field' : ''}, for every operation`, () => {
      const table = c.table();
      const ops: Array<() => unknown> = [
        () => table.insert(c.match, c.priority, 'x'),
        () => table.modify(c.match, c.priority, 'x'),
        () => table.delete(c.match, c.priority),
        () => table.get(c.match, c.priority),
      ];
      for (const op of ops) {
        const e = caught(op);
        expect(e.code).toBe('INVALID_ARGUMENT');
        expect(e.table).toBe(table.name);
        expect(e.message.startsWith(`table ${table.name}: `)).toBe(true);
        expect(e.field).toBe(c.field);
        if (c.field !== undefined) expect(e.message).toContain(`field ${c.field}: `);
      }
      expect(table.size).toBe(0);
    });
  }

  it('says what was wrong in the message, e.g. the prefix length', () => {
    const e = caught(() => lpm().insert([ex(1), { kind: 'lpm', value: 0, prefixLen: 40 }], 0, 'x'));
    expect(e.message).toBe('table ipv4_lpm: field hdr.dst: prefixLen 40 exceeds width 32');
  });

  it('any value that does not fit the width is refused, for every kind and width', () => {
    const kinds: MatchKind[] = ['exact', 'lpm', 'ternary', 'range', 'optional'];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.integer({ min: 1, max: 31 }), fc.integer({ min: 0, max: 2 ** 40 }), (kind, width, extra) => {
        const big = 2 ** width + (extra % 2 ** 33);
        const table = new MatchTable<number>('w', [{ name: 'f', match: kind, width }], 4);
        const m: FieldMatch =
          kind === 'exact' || kind === 'optional'
            ? { kind, value: big }
            : kind === 'lpm'
              ? { kind, value: big, prefixLen: width }
              : kind === 'ternary'
                ? { kind, value: big, mask: big }
                : { kind, low: 0, high: big };
        const e = caught(() => table.insert([m], kind === 'exact' || kind === 'lpm' ? 0 : 1, 0));
        expect(e.code).toBe('INVALID_ARGUMENT');
        expect(e.message).toContain('table w: field f: ');
      }),
    );
  });

  it('size limit: RESOURCE_EXHAUSTED naming table and size, room again after a delete', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (maxSize) => {
        const table = new MatchTable<number>('fib', [{ name: 'dst', match: 'exact', width: 16 }], maxSize);
        for (let i = 0; i < maxSize; i++) table.insert([ex(i)], 0, i);
        const e = caught(() => table.insert([ex(maxSize)], 0, -1));
        expect(e.code).toBe('RESOURCE_EXHAUSTED');
        expect(e.message).toContain('table fib: ');
        expect(e.message).toContain(String(maxSize));
        expect(table.size).toBe(maxSize);
        expect(table.lookup([maxSize])).toBeUndefined();
        table.delete([ex(0)], 0);
        table.insert([ex(maxSize)], 0, maxSize);
        expect(table.lookup([maxSize])).toBe(maxSize);
      }),
    );
  });

  it('duplicate insert is ALREADY_EXISTS, absent modify/delete NOT_FOUND, and none of them changes the table', () => {
    const table = lpm();
    const m = [ex(3), { kind: 'lpm', value: 0x0a000000, prefixLen: 8 } as FieldMatch];
    table.insert(m, 0, 'first');
    let e = caught(() => table.insert(m, 0, 'second'));
    expect(e.code).toBe('ALREADY_EXISTS');
    expect(e.message).toContain('table ipv4_lpm: ');
    expect(table.lookup([3, 0x0a0a0a0a])).toBe('first');
    const other = [ex(4), m[1]!];
    e = caught(() => table.modify(other, 0, 'x'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('table ipv4_lpm: ');
    e = caught(() => table.delete(other, 0));
    expect(e.code).toBe('NOT_FOUND');
    expect(table.get(other, 0)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it('the same ternary match at two priorities is two entries', () => {
    const table = acl();
    table.insert([W, W, W, W], 1, 'low');
    table.insert([W, W, W, W], 2, 'high');
    expect(table.size).toBe(2);
    expect(table.lookup([6, 80, 1, 0x01020304])).toBe('high');
    table.delete([W, W, W, W], 2);
    expect(table.lookup([6, 80, 1, 0x01020304])).toBe('low');
  });

  it('constructor refuses bad widths, sizes and ambiguous lpm keys', () => {
    const bad: Array<[KeyFieldSpec[], number, string | undefined]> = [
      [[{ name: 'a', match: 'exact', width: 0 }], 4, 'a'],
      [[{ name: 'b', match: 'exact', width: 33 }], 4, 'b'],
      [[{ name: 'c', match: 'exact', width: 2.5 }], 4, 'c'],
      [[{ name: 'd', match: 'fuzzy' as MatchKind, width: 8 }], 4, 'd'],
      [[{ name: 'e', match: 'lpm', width: 8 }, { name: 'f', match: 'lpm', width: 8 }], 4, undefined],
      [[{ name: 'g', match: 'exact', width: 8 }], 0, undefined],
    ];
    for (const [keys, size, field] of bad) {
      const e = caught(() => new MatchTable('ctor', keys, size));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain('table ctor: ');
      expect(e.field).toBe(field);
    }
    // two lpm fields are fine once a ternary field makes it a priority table
    expect(new MatchTable('ok', [{ name: 'e', match: 'lpm', width: 8 }, { name: 'f', match: 'lpm', width: 8 }, { name: 't', match: 'ternary', width: 1 }], 4).mode).toBe('priority');
  });
});
