import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MatchTable } from '../../src/pipeline/match-table.js';
import { type FieldMatch, type KeyFieldSpec, TableError } from '../../src/pipeline/match-types.js';
import { type KeyGen, RefTable, canonical, entryArb, keyArb, keyGenArb, needsPriority, realizeKey, refId } from './match-reference.js';

type Cmd =
  | { type: 'insert'; entry: { match: FieldMatch[]; priority: number } }
  | { type: 'modify' | 'delete'; pick: number; fresh: { match: FieldMatch[]; priority: number } | null }
  | { type: 'lookups'; keys: KeyGen[] };

function cmdArb(spec: readonly KeyFieldSpec[]): fc.Arbitrary<Cmd> {
  const entry = entryArb(spec);
  const target = fc.record({ pick: fc.nat(), fresh: fc.option(entry, { freq: 4 }) });
  return fc.oneof(
    { weight: 5, arbitrary: entry.map((e): Cmd => ({ type: 'insert', entry: e })) },
    { weight: 1, arbitrary: target.map((t): Cmd => ({ type: 'modify', ...t })) },
    { weight: 2, arbitrary: target.map((t): Cmd => ({ type: 'delete', ...t })) },
    { weight: 2, arbitrary: fc.array(keyGenArb(spec), { minLength: 1, maxLength: 8 }).map((keys): Cmd => ({ type: 'lookups', keys })) },
  );
}

function expectCode(fn: () => unknown, code: TableError['code']): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(TableError);
  expect((caught as TableError).code).toBe(code);
}

const f = (name: string, match: KeyFieldSpec['match'], width: number): KeyFieldSpec => ({ name, match, width });

const SPECS: Array<{ title: string; spec: KeyFieldSpec[]; maxSize: number }> = [
  { title: 'exact 32', spec: [f('dst', 'exact', 32)], maxSize: 1000 },
  { title: 'exact 8+16', spec: [f('port', 'exact', 8), f('vlan', 'exact', 16)], maxSize: 25 },
  { title: 'exact 32+32+1 (wider than 52 bits)', spec: [f('src', 'exact', 32), f('dst', 'exact', 32), f('v', 'exact', 1)], maxSize: 1000 },
  { title: 'lpm 8', spec: [f('dst', 'lpm', 8)], maxSize: 1000 },
  { title: 'lpm 32', spec: [f('dst', 'lpm', 32)], maxSize: 1000 },
  { title: 'lpm 32 + exact 16', spec: [f('dst', 'lpm', 32), f('vrf', 'exact', 16)], maxSize: 30 },
  { title: 'exact 8 + lpm 32 + exact 32', spec: [f('vrf', 'exact', 8), f('dst', 'lpm', 32), f('src', 'exact', 32)], maxSize: 1000 },
  { title: 'ternary 8', spec: [f('proto', 'ternary', 8)], maxSize: 1000 },
  { title: 'ternary 32 + ternary 16', spec: [f('dst', 'ternary', 32), f('port', 'ternary', 16)], maxSize: 1000 },
  { title: 'range 16', spec: [f('port', 'range', 16)], maxSize: 1000 },
  { title: 'range 8 + range 32', spec: [f('ttl', 'range', 8), f('len', 'range', 32)], maxSize: 20 },
  { title: 'optional 8 + exact 8', spec: [f('in', 'optional', 8), f('proto', 'exact', 8)], maxSize: 1000 },
  { title: 'exact 8 + ternary 16 + range 8', spec: [f('proto', 'exact', 8), f('flags', 'ternary', 16), f('ttl', 'range', 8)], maxSize: 1000 },
  { title: 'lpm 16 + ternary 8 + optional 4', spec: [f('dst', 'lpm', 16), f('tos', 'ternary', 8), f('q', 'optional', 4)], maxSize: 1000 },
];

describe('MatchTable against a brute-force reference', () => {
  for (const { title, spec, maxSize } of SPECS) {
    it(`${title}: insert/modify/delete/lookup sequences`, () => {
      let hits = 0;
      let lookups = 0;
      fc.assert(
        fc.property(fc.array(cmdArb(spec), { maxLength: 80, size: "medium" }), (cmds) => {
          const table = new MatchTable<number>('t', spec, maxSize);
          const ref = new RefTable(spec);
          let nextValue = 1;
          for (const cmd of cmds) {
            if (cmd.type === 'insert') {
              const { match, priority } = cmd.entry;
              const v = nextValue++;
              if (ref.entries.has(refId(spec, match, priority))) expectCode(() => table.insert(match, priority, v), 'ALREADY_EXISTS');
              else if (ref.entries.size >= maxSize) expectCode(() => table.insert(match, priority, v), 'RESOURCE_EXHAUSTED');
              else {
                table.insert(match, priority, v);
                ref.insert(match, priority, v);
              }
            } else if (cmd.type === 'lookups') {
              const present = [...ref.entries.values()];
              for (const gen of cmd.keys) {
                const key = realizeKey(spec, gen, present);
                const want = ref.lookup(key);
                expect(table.lookup(key)).toBe(want);
                lookups++;
                if (want !== undefined) hits++;
              }
            } else {
              const existing = [...ref.entries.values()];
              const t = cmd.fresh ?? existing[cmd.pick % Math.max(1, existing.length)] ?? null;
              if (t === null) continue;
              const id = refId(spec, t.match, t.priority);
              const present = ref.entries.get(id);
              if (cmd.type === 'modify') {
                const v = nextValue++;
                if (present === undefined) expectCode(() => table.modify(t.match, t.priority, v), 'NOT_FOUND');
                else {
                  table.modify(t.match, t.priority, v);
                  present.value = v;
                }
              } else if (present === undefined) expectCode(() => table.delete(t.match, t.priority), 'NOT_FOUND');
              else {
                table.delete(t.match, t.priority);
                ref.entries.delete(id);
              }
            }
            expect(table.size).toBe(ref.entries.size);
          }
          // read-back: same entries in insertion order, each reachable by get
          const got = table.entries().map((e) => ({ match: e.match, priority: e.priority, value: e.value }));
          const want = [...ref.entries.values()].map((e) => ({ match: e.match, priority: e.priority, value: e.value }));
          expect(got).toEqual(want);
          for (const e of ref.entries.values()) expect(table.get(e.match, e.priority)).toBe(e.value);
        }),
        { numRuns: 120 },
      );
      // the generators must actually produce matches and misses, or the property proves little
      expect(hits / lookups).toBeGreaterThan(0.1);
      expect(hits).toBeLessThan(lookups);
    });
  }

  it('explicit don\'t-care spellings name the same entry as wildcard', () => {
    const spec = [f('dst', 'lpm', 32), f('tos', 'ternary', 8), f('port', 'range', 16)];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), (priority) => {
        const table = new MatchTable<string>('acl', spec, 10);
        table.insert([{ kind: 'lpm', value: 0, prefixLen: 0 }, { kind: 'ternary', value: 0, mask: 0 }, { kind: 'range', low: 0, high: 0xffff }], priority, 'a');
        expectCode(() => table.insert([{ kind: 'wildcard' }, { kind: 'wildcard' }, { kind: 'wildcard' }], priority, 'b'), 'ALREADY_EXISTS');
        expect(table.get([{ kind: 'wildcard' }, { kind: 'wildcard' }, { kind: 'wildcard' }], priority)).toBe('a');
        expect(table.entries()[0]!.match).toEqual([{ kind: 'wildcard' }, { kind: 'wildcard' }, { kind: 'wildcard' }]);
      }),
    );
  });

  it('lookup masks key values to the field width and accepts signed 32-bit views', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }), (dst, high) => {
        const table = new MatchTable<number>('t', [f('dst', 'exact', 32), f('p', 'exact', 16)], 4);
        table.insert([{ kind: 'exact', value: dst }, { kind: 'exact', value: 7 }], 0, 1);
        expect(table.lookup([dst | 0, 7 + high * 0x10000])).toBe(1);
        expect(table.lookup(Int32Array.of(dst | 0, 7))).toBe(1);
      }),
    );
  });

  it('clear empties every index', () => {
    for (const { spec } of SPECS) {
      fc.assert(
        fc.property(fc.uniqueArray(entryArb(spec), { selector: (e) => refId(spec, e.match, e.priority), maxLength: 20 }), keyArb(spec), (entries, key) => {
          const table = new MatchTable<number>('t', spec, 1000);
          entries.forEach((e, i) => table.insert(e.match, e.priority, i));
          table.clear();
          expect(table.size).toBe(0);
          expect(table.lookup(key)).toBeUndefined();
          entries.forEach((e, i) => table.insert(e.match, e.priority, i)); // no ALREADY_EXISTS
          const ref = new RefTable(spec);
          entries.forEach((e, i) => ref.insert(e.match, e.priority, i));
          expect(table.lookup(key)).toBe(ref.lookup(key));
        }),
        { numRuns: 20 },
      );
    }
  });

  it('mode follows the key: priority iff ternary/range/optional', () => {
    for (const { spec } of SPECS) {
      const table = new MatchTable<number>('t', spec, 1);
      expect(table.requiresPriority).toBe(needsPriority(spec));
      expect(table.mode).toBe(needsPriority(spec) ? 'priority' : spec.some((k) => k.match === 'lpm') ? 'lpm' : 'exact');
    }
  });

  it('entries() hands out copies', () => {
    const spec = [f('dst', 'lpm', 32)];
    const table = new MatchTable<number>('t', spec, 4);
    const match: FieldMatch[] = [{ kind: 'lpm', value: 0x0a000000, prefixLen: 8 }];
    table.insert(match, 0, 1);
    (match[0] as { value: number }).value = 0x0b000000;
    const out = table.entries();
    (out[0]!.match[0] as { value: number }).value = 0x0c000000;
    expect(table.entries()[0]!.match).toEqual(canonical(spec, [{ kind: 'lpm', value: 0x0a000000, prefixLen: 8 }]));
    expect(table.lookup([0x0a010203])).toBe(1);
  });
});
