// A brute-force model of a P4Runtime match table and generators of entries and keys that
// collide often enough (shared anchor values, nested prefixes, few priorities) for the
// interesting cases - nesting, overlaps, ties - to come up in every run.
import fc from 'fast-check';
import type { FieldMatch, KeyFieldSpec } from '../../src/pipeline/match-types.js';

export interface RefEntry {
  match: FieldMatch[];
  priority: number;
  value: number;
  seq: number;
}

const pow2 = (n: number): number => 2 ** n;
const maxOf = (w: number): number => pow2(w) - 1;

export function needsPriority(spec: readonly KeyFieldSpec[]): boolean {
  return spec.some((k) => k.match === 'ternary' || k.match === 'range' || k.match === 'optional');
}

/** The explicit don't-care spellings P4Runtime would have the client omit. */
export function canonical(spec: readonly KeyFieldSpec[], match: readonly FieldMatch[]): FieldMatch[] {
  return match.map((m, i) => {
    const w = spec[i]!.width;
    if (m.kind === 'lpm' && m.prefixLen === 0) return { kind: 'wildcard' };
    if (m.kind === 'ternary' && m.mask === 0) return { kind: 'wildcard' };
    if (m.kind === 'range' && m.low === 0 && m.high === maxOf(w)) return { kind: 'wildcard' };
    return { ...m };
  });
}

export function refId(spec: readonly KeyFieldSpec[], match: readonly FieldMatch[], priority: number): string {
  return `${JSON.stringify(canonical(spec, match))}#${priority}`;
}

function bitsEqualUnder(a: number, b: number, mask: number): boolean {
  return (BigInt(a) & BigInt(mask)) === (BigInt(b) & BigInt(mask));
}

export function fieldMatches(w: number, m: FieldMatch, k: number): boolean {
  switch (m.kind) {
    case 'exact':
    case 'optional':
      return k === m.value;
    case 'lpm': {
      const drop = pow2(w - m.prefixLen);
      return Math.floor(k / drop) === Math.floor(m.value / drop);
    }
    case 'ternary':
      return bitsEqualUnder(k, m.value, m.mask);
    case 'range':
      return m.low <= k && k <= m.high;
    case 'wildcard':
      return true;
  }
}

function prefixLenOf(m: FieldMatch): number {
  return m.kind === 'lpm' ? m.prefixLen : 0;
}

export class RefTable {
  readonly entries = new Map<string, RefEntry>();
  private seq = 0;

  constructor(readonly spec: readonly KeyFieldSpec[]) {}

  insert(match: readonly FieldMatch[], priority: number, value: number): void {
    this.entries.set(refId(this.spec, match, priority), {
      match: canonical(this.spec, match),
      priority,
      value,
      seq: this.seq++,
    });
  }

  lookup(key: readonly number[]): number | undefined {
    const hits = [...this.entries.values()].filter((e) =>
      e.match.every((m, i) => fieldMatches(this.spec[i]!.width, m, key[i]!)),
    );
    if (hits.length === 0) return undefined;
    if (needsPriority(this.spec)) {
      hits.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      return hits[0]!.value;
    }
    const lpm = this.spec.findIndex((k) => k.match === 'lpm');
    if (lpm >= 0) {
      hits.sort((a, b) => prefixLenOf(b.match[lpm]!) - prefixLenOf(a.match[lpm]!));
      if (hits.length > 1 && prefixLenOf(hits[0]!.match[lpm]!) === prefixLenOf(hits[1]!.match[lpm]!)) {
        throw new Error('reference: two lpm entries of one length match one key');
      }
      return hits[0]!.value;
    }
    if (hits.length > 1) throw new Error('reference: two exact entries match one key');
    return hits[0]!.value;
  }
}

// Values clustered around a few anchors so that entries nest and keys land in them.
function anchors(w: number): number[] {
  const max = maxOf(w);
  return [0, max, Math.floor(0xa5c3e10f / pow2(32 - w)), 0x0a0b0c0d % pow2(w)];
}

export function valueArb(w: number): fc.Arbitrary<number> {
  const max = maxOf(w);
  return fc.oneof(
    fc.constantFrom(...anchors(w)),
    fc.tuple(fc.constantFrom(...anchors(w)), fc.integer({ min: 0, max: 15 })).map(([a, d]) => Number((BigInt(a) ^ BigInt(d)) & BigInt(max))),
    fc.integer({ min: 0, max }),
  );
}

function topBits(v: number, w: number, p: number): number {
  const drop = pow2(w - p);
  return Math.floor(v / drop) * drop;
}

export function fieldMatchArb(k: KeyFieldSpec): fc.Arbitrary<FieldMatch> {
  const w = k.width;
  const max = maxOf(w);
  const wildcard = fc.constant<FieldMatch>({ kind: 'wildcard' });
  switch (k.match) {
    case 'exact':
      return valueArb(w).map((value) => ({ kind: 'exact', value }));
    case 'optional':
      return fc.oneof(valueArb(w).map((value): FieldMatch => ({ kind: 'optional', value })), wildcard);
    case 'lpm': {
      // short prefix lengths are favoured too, so prefixes nest
      const len = fc.oneof(fc.integer({ min: 0, max: w }), fc.constantFrom(0, 1, Math.floor(w / 2), w));
      return fc.oneof(
        { weight: 6, arbitrary: fc.tuple(valueArb(w), len).map(([v, p]): FieldMatch => ({ kind: 'lpm', value: topBits(v, w, p), prefixLen: p })) },
        { weight: 1, arbitrary: wildcard },
      );
    }
    case 'ternary': {
      const mask = fc.oneof(
        fc.constant(max),
        fc.integer({ min: 0, max: w }).map((p) => topBits(max, w, p)),
        fc.integer({ min: 0, max }),
      );
      return fc.oneof(
        { weight: 6, arbitrary: fc.tuple(valueArb(w), mask).map(([v, m]): FieldMatch => ({ kind: 'ternary', value: Number(BigInt(v) & BigInt(m)), mask: m })) },
        { weight: 1, arbitrary: wildcard },
      );
    }
    case 'range':
      return fc.oneof(
        { weight: 6, arbitrary: fc.tuple(valueArb(w), valueArb(w)).map(([a, b]): FieldMatch => ({ kind: 'range', low: Math.min(a, b), high: Math.max(a, b) })) },
        { weight: 1, arbitrary: fc.constant<FieldMatch>({ kind: 'range', low: 0, high: max }) },
        { weight: 1, arbitrary: wildcard },
      );
  }
}

export function entryArb(spec: readonly KeyFieldSpec[]): fc.Arbitrary<{ match: FieldMatch[]; priority: number }> {
  const priority = needsPriority(spec) ? fc.integer({ min: 1, max: 4 }) : fc.constant(0);
  return fc.record({ match: fc.tuple(...spec.map(fieldMatchArb)), priority });
}

export function keyArb(spec: readonly KeyFieldSpec[]): fc.Arbitrary<number[]> {
  return fc.tuple(...spec.map((k) => valueArb(k.width)));
}

/**
 * A key inside `match`, the don't-care bits filled from `bits` (one uint32 per field): a key
 * that at least this entry matches, though a better entry may win.
 */
export function keyInside(spec: readonly KeyFieldSpec[], match: readonly FieldMatch[], bits: readonly number[]): number[] {
  return match.map((m, i) => {
    const w = spec[i]!.width;
    const max = BigInt(maxOf(w));
    const r = BigInt(bits[i]!) & max;
    switch (m.kind) {
      case 'exact':
      case 'optional':
        return m.value;
      case 'lpm': {
        const low = BigInt(pow2(w - m.prefixLen) - 1);
        return Number(BigInt(m.value) | (r & low));
      }
      case 'ternary':
        return Number(BigInt(m.value) | (r & ~BigInt(m.mask) & max));
      case 'range':
        return m.low + (bits[i]! % (m.high - m.low + 1));
      case 'wildcard':
        return Number(r);
    }
  });
}

/** Either a free key or one derived from the `pick`-th present entry. */
export type KeyGen = { free: number[] } | { pick: number; bits: number[] };

export function keyGenArb(spec: readonly KeyFieldSpec[]): fc.Arbitrary<KeyGen> {
  return fc.oneof(
    keyArb(spec).map((free): KeyGen => ({ free })),
    fc.record({ pick: fc.nat(), bits: fc.array(fc.nat({ max: 0xffffffff }), { minLength: spec.length, maxLength: spec.length }) }),
  );
}

export function realizeKey(spec: readonly KeyFieldSpec[], gen: KeyGen, entries: readonly RefEntry[]): number[] {
  if ('free' in gen) return gen.free;
  const e = entries[gen.pick % Math.max(1, entries.length)];
  return e === undefined ? gen.bits.map((b, i) => Number(BigInt(b) & BigInt(maxOf(spec[i]!.width)))) : keyInside(spec, e.match, gen.bits);
}
