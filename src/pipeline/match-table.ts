import {
  type FieldMatch,
  type KeyFieldSpec,
  type MatchKind,
  TableError,
  isValidWidth,
  prefixMask,
  widthMask,
} from './match-types.js';

/**
 * How a table finds the entry for a packet, fixed by its key's match kinds (as in BMv2):
 * - `exact`: only exact fields; one hash index over the packed key.
 * - `lpm`: exactly one lpm field plus exact fields; one hash index per prefix length present,
 *   probed longest first, so the first hit is the longest match.
 * - `priority`: any ternary, range or optional field (an lpm field there is just a prefix
 *   mask); entries kept sorted by priority, highest first, ties by earlier insertion, and
 *   scanned linearly. Linear is O(entries) per lookup but branch-light over typed arrays, and
 *   ternary tables in the programs here are small (ACLs, a few dozen entries).
 */
export type LookupMode = 'exact' | 'lpm' | 'priority';

export interface TableEntry<T> {
  match: FieldMatch[];
  priority: number;
  value: T;
}

interface Entry<T> {
  readonly id: string;
  /** canonical form (explicit don't-cares turned into wildcard), never handed out */
  readonly match: readonly FieldMatch[];
  readonly priority: number;
  value: T;
  /** insertion order, the priority tie-break; kept across modify */
  readonly seq: number;
  /** exact/lpm modes: the packed key (lpm field already masked to its prefix) */
  readonly key: Int32Array;
  /** lpm mode: the lpm field's prefix length */
  readonly prefixLen: number;
}

const PRIORITY_MAX = 0x7fffffff; // P4Runtime priorities are int32
const SIGN = 0x80000000 | 0;

/**
 * A P4Runtime-style match table holding an opaque value per entry (the engine stores the
 * action and its data there).
 *
 * Identity: an entry is named by its canonical match plus its priority, as in P4Runtime, so
 * the same ternary match may exist at two priorities. Priority convention: tables with a
 * ternary, range or optional field (`requiresPriority`) need a priority in 1..2^31-1, higher
 * wins; every other table requires priority 0 and rejects anything else, so an engine bug
 * passing priorities to an LPM table shows up instead of being silently ignored.
 *
 * `lookup` masks each key value to its field's width (a P4 key expression has the field's
 * width, so this only matters for callers handing in wider numbers) and never allocates.
 */
export class MatchTable<T> {
  readonly name: string;
  readonly keys: readonly KeyFieldSpec[];
  readonly maxSize: number;
  readonly mode: LookupMode;
  readonly requiresPriority: boolean;

  private readonly n: number;
  private readonly widthMasks: Int32Array;
  private readonly byId = new Map<string, Entry<T>>();
  private nextSeq = 0;

  // exact mode
  private exactIndex: KeyIndex<Entry<T>> | undefined;

  // lpm mode
  private readonly lpmField: number;
  private lpmByLen: (KeyIndex<Entry<T>> | undefined)[] = [];
  /** the non-empty per-length indexes, longest prefix first, and their masks */
  private lpmActive: KeyIndex<Entry<T>>[] = [];
  private lpmActiveMasks = new Int32Array(0);

  // priority mode
  private sorted: Entry<T>[] = [];
  private packDirty = false;
  private readonly isRangeCol: Uint8Array;
  /** per entry x field: masked columns use value/mask, range columns low/high */
  private packValue = new Int32Array(0);
  private packMask = new Int32Array(0);
  /** range bounds with the sign bit flipped, so int32 order is uint32 order (no doubles) */
  private packLow = new Int32Array(0);
  private packHigh = new Int32Array(0);
  private readonly scratchI: Int32Array;
  private readonly scratchR: Int32Array;

  constructor(name: string, keys: readonly KeyFieldSpec[], maxSize: number) {
    this.name = name;
    this.keys = keys.map((k) => Object.freeze({ name: k.name, match: k.match, width: k.width }));
    if (!Number.isInteger(maxSize) || maxSize < 1) {
      throw new TableError('INVALID_ARGUMENT', name, `size ${maxSize} is not a positive integer`);
    }
    this.maxSize = maxSize;
    this.n = keys.length;
    this.widthMasks = new Int32Array(this.n);
    this.isRangeCol = new Uint8Array(this.n);
    this.scratchI = new Int32Array(this.n);
    this.scratchR = new Int32Array(this.n);

    let lpmCount = 0;
    let lpmField = -1;
    let needsPriority = false;
    for (let i = 0; i < this.n; i++) {
      const k = keys[i]!;
      if (!KINDS.includes(k.match)) {
        throw new TableError('INVALID_ARGUMENT', name, `unknown match kind ${String(k.match)}`, k.name);
      }
      if (!isValidWidth(k.width)) {
        throw new TableError('INVALID_ARGUMENT', name, `width ${k.width} is not in 1..32`, k.name);
      }
      this.widthMasks[i] = widthMask(k.width) | 0;
      if (k.match === 'lpm') {
        lpmCount++;
        lpmField = i;
      }
      if (k.match === 'range') this.isRangeCol[i] = 1;
      if (k.match === 'ternary' || k.match === 'range' || k.match === 'optional') needsPriority = true;
    }
    this.requiresPriority = needsPriority;
    if (needsPriority) {
      this.mode = 'priority';
      this.lpmField = -1;
    } else if (lpmCount > 1) {
      // Longest-prefix order is undefined across two prefixes and there is no priority to
      // break it, so P4 targets reject such tables; so do we.
      throw new TableError(
        'INVALID_ARGUMENT',
        name,
        `${lpmCount} lpm fields without a ternary, range or optional field; at most one is allowed`,
      );
    } else if (lpmCount === 1) {
      this.mode = 'lpm';
      this.lpmField = lpmField;
      this.lpmByLen = new Array<KeyIndex<Entry<T>> | undefined>(keys[lpmField]!.width + 1).fill(undefined);
    } else {
      this.mode = 'exact';
      this.lpmField = -1;
      this.exactIndex = new KeyIndex(this.n, this.widthMasks);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  insert(match: readonly FieldMatch[], priority: number, value: T): void {
    const canon = this.canonicalize(match);
    this.checkPriority(priority);
    const id = identity(canon, priority);
    if (this.byId.has(id)) {
      throw new TableError('ALREADY_EXISTS', this.name, `entry ${this.describe(canon, priority)} already exists`);
    }
    if (this.byId.size >= this.maxSize) {
      throw new TableError('RESOURCE_EXHAUSTED', this.name, `table is full (size ${this.maxSize})`);
    }
    const entry = this.makeEntry(id, canon, priority, value);
    this.byId.set(id, entry);
    this.index(entry);
  }

  modify(match: readonly FieldMatch[], priority: number, value: T): void {
    this.found(match, priority).value = value;
  }

  delete(match: readonly FieldMatch[], priority: number): void {
    const entry = this.found(match, priority);
    this.byId.delete(entry.id);
    this.unindex(entry);
  }

  get(match: readonly FieldMatch[], priority: number): T | undefined {
    const canon = this.canonicalize(match);
    this.checkPriority(priority);
    return this.byId.get(identity(canon, priority))?.value;
  }

  /** Insertion order; a modified entry keeps its place. Matches are in canonical form. */
  entries(): Array<TableEntry<T>> {
    const out: Array<TableEntry<T>> = [];
    for (const e of this.byId.values()) {
      out.push({ match: e.match.map((m) => ({ ...m })), priority: e.priority, value: e.value });
    }
    return out;
  }

  clear(): void {
    this.byId.clear();
    this.nextSeq = 0;
    if (this.mode === 'exact') this.exactIndex = new KeyIndex(this.n, this.widthMasks);
    if (this.mode === 'lpm') {
      this.lpmByLen.fill(undefined);
      this.refreshLpmActive();
    }
    this.sorted = [];
    this.packDirty = true;
  }

  lookup(key: ArrayLike<number>): T | undefined {
    if (this.mode === 'exact') return this.exactIndex!.find(key, -1, 0)?.value;
    if (this.mode === 'lpm') {
      const active = this.lpmActive;
      const masks = this.lpmActiveMasks;
      const field = this.lpmField;
      for (let j = 0; j < active.length; j++) {
        const e = active[j]!.find(key, field, masks[j]!);
        if (e !== undefined) return e.value;
      }
      return undefined;
    }
    return this.lookupPriority(key);
  }

  private lookupPriority(key: ArrayLike<number>): T | undefined {
    if (this.packDirty) this.repack();
    const n = this.n;
    const kI = this.scratchI;
    const kR = this.scratchR;
    const wm = this.widthMasks;
    for (let f = 0; f < n; f++) {
      const v = key[f]! & wm[f]!;
      kI[f] = v;
      kR[f] = v ^ SIGN;
    }
    const isRange = this.isRangeCol;
    const pv = this.packValue;
    const pm = this.packMask;
    const lo = this.packLow;
    const hi = this.packHigh;
    const count = this.sorted.length;
    for (let e = 0, base = 0; e < count; e++, base += n) {
      let f = 0;
      for (; f < n; f++) {
        const at = base + f;
        if (isRange[f] === 1) {
          const k = kR[f]!;
          if (k < lo[at]! || k > hi[at]!) break;
        } else if ((kI[f]! & pm[at]!) !== pv[at]!) break;
      }
      if (f === n) return this.sorted[e]!.value;
    }
    return undefined;
  }

  private found(match: readonly FieldMatch[], priority: number): Entry<T> {
    const canon = this.canonicalize(match);
    this.checkPriority(priority);
    const entry = this.byId.get(identity(canon, priority));
    if (entry === undefined) {
      throw new TableError('NOT_FOUND', this.name, `no entry ${this.describe(canon, priority)}`);
    }
    return entry;
  }

  private makeEntry(id: string, canon: FieldMatch[], priority: number, value: T): Entry<T> {
    const key = new Int32Array(this.n);
    let prefixLen = 0;
    for (let i = 0; i < this.n; i++) {
      const m = canon[i]!;
      if (m.kind === 'exact') key[i] = m.value | 0;
      else if (m.kind === 'lpm') {
        key[i] = m.value | 0;
        if (i === this.lpmField) prefixLen = m.prefixLen;
      }
    }
    Object.freeze(canon);
    for (const m of canon) Object.freeze(m);
    return { id, match: canon, priority, value, seq: this.nextSeq++, key, prefixLen };
  }

  private index(entry: Entry<T>): void {
    if (this.mode === 'exact') {
      this.exactIndex!.insert(entry);
    } else if (this.mode === 'lpm') {
      let idx = this.lpmByLen[entry.prefixLen];
      if (idx === undefined) {
        idx = new KeyIndex(this.n, this.widthMasks);
        this.lpmByLen[entry.prefixLen] = idx;
        idx.insert(entry);
        this.refreshLpmActive();
      } else idx.insert(entry);
    } else {
      // after every entry of priority >= ours: those are higher or inserted earlier
      const s = this.sorted;
      let lo = 0;
      let hi = s.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (s[mid]!.priority >= entry.priority) lo = mid + 1;
        else hi = mid;
      }
      s.splice(lo, 0, entry);
      this.packDirty = true;
    }
  }

  private unindex(entry: Entry<T>): void {
    if (this.mode === 'exact') {
      this.exactIndex!.remove(entry);
    } else if (this.mode === 'lpm') {
      const idx = this.lpmByLen[entry.prefixLen]!;
      idx.remove(entry);
      if (idx.count === 0) {
        this.lpmByLen[entry.prefixLen] = undefined;
        this.refreshLpmActive();
      }
    } else {
      this.sorted.splice(this.sorted.indexOf(entry), 1);
      this.packDirty = true;
    }
  }

  private refreshLpmActive(): void {
    const width = this.keys[this.lpmField]!.width;
    const active: KeyIndex<Entry<T>>[] = [];
    const masks: number[] = [];
    for (let len = width; len >= 0; len--) {
      const idx = this.lpmByLen[len];
      if (idx !== undefined) {
        active.push(idx);
        masks.push(prefixMask(width, len) | 0);
      }
    }
    this.lpmActive = active;
    this.lpmActiveMasks = Int32Array.from(masks);
  }

  // Rebuilt lazily on the first lookup after a change, so a burst of control-plane writes
  // costs one repack; buffers only grow, so steady-state lookups never allocate.
  private repack(): void {
    const n = this.n;
    const need = Math.max(1, this.sorted.length) * n;
    if (this.packValue.length < need) {
      const cap = Math.max(need, this.packValue.length * 2);
      this.packValue = new Int32Array(cap);
      this.packMask = new Int32Array(cap);
      this.packLow = new Int32Array(cap);
      this.packHigh = new Int32Array(cap);
    }
    for (let e = 0; e < this.sorted.length; e++) {
      const match = this.sorted[e]!.match;
      for (let f = 0; f < n; f++) {
        const at = e * n + f;
        const m = match[f]!;
        const width = this.keys[f]!.width;
        let value = 0;
        let mask = 0;
        let low = 0;
        let high = widthMask(width);
        switch (m.kind) {
          case 'exact':
          case 'optional':
            value = m.value;
            mask = widthMask(width);
            break;
          case 'lpm':
            value = m.value;
            mask = prefixMask(width, m.prefixLen);
            break;
          case 'ternary':
            value = m.value;
            mask = m.mask;
            break;
          case 'range':
            low = m.low;
            high = m.high;
            break;
          case 'wildcard':
            break;
        }
        this.packValue[at] = value | 0;
        this.packMask[at] = mask | 0;
        this.packLow[at] = low ^ SIGN;
        this.packHigh[at] = high ^ SIGN;
      }
    }
    this.packDirty = false;
  }

  private checkPriority(priority: number): void {
    if (this.requiresPriority) {
      if (!Number.isInteger(priority) || priority < 1 || priority > PRIORITY_MAX) {
        throw new TableError(
          'INVALID_ARGUMENT',
          this.name,
          `priority ${priority} is not in 1..${PRIORITY_MAX} (required for a table with ternary, range or optional fields)`,
        );
      }
    } else if (priority !== 0) {
      throw new TableError(
        'INVALID_ARGUMENT',
        this.name,
        `priority must be 0 for a table with only exact and lpm fields, got ${priority}`,
      );
    }
  }

  /** Validates against the key spec and returns fresh canonical copies. */
  private canonicalize(match: readonly FieldMatch[]): FieldMatch[] {
    if (!Array.isArray(match) || match.length !== this.n) {
      const got = Array.isArray(match) ? match.length : typeof match;
      throw new TableError('INVALID_ARGUMENT', this.name, `expected ${this.n} key fields, got ${got}`);
    }
    const out: FieldMatch[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.canonicalField(this.keys[i]!, match[i]);
    return out;
  }

  private canonicalField(spec: KeyFieldSpec, m: FieldMatch | undefined): FieldMatch {
    const bad = (detail: string): TableError =>
      new TableError('INVALID_ARGUMENT', this.name, detail, spec.name);
    const check = (label: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        throw bad(`${label} ${String(v)} is not an unsigned integer`);
      }
      if (v > widthMask(spec.width)) throw bad(`${label} ${hex(v)} does not fit in ${spec.width} bits`);
      return v;
    };
    if (m === null || typeof m !== 'object' || typeof m.kind !== 'string') throw bad('missing match');
    if (m.kind === 'wildcard') {
      if (spec.match === 'exact') throw bad('an exact field cannot be a wildcard');
      return { kind: 'wildcard' };
    }
    if (m.kind !== spec.match) throw bad(`match kind ${m.kind} not allowed for a ${spec.match} field`);
    switch (m.kind) {
      case 'exact':
      case 'optional':
        return { kind: m.kind, value: check('value', m.value) };
      case 'lpm': {
        const value = check('value', m.value);
        const len = m.prefixLen;
        if (typeof len !== 'number' || !Number.isInteger(len) || len < 0) {
          throw bad(`prefixLen ${String(len)} is not a non-negative integer`);
        }
        if (len > spec.width) throw bad(`prefixLen ${len} exceeds width ${spec.width}`);
        if (((value & ~prefixMask(spec.width, len)) >>> 0) !== 0) {
          throw bad(`value ${hex(value)} has bits set beyond prefix length ${len}`);
        }
        return len === 0 ? { kind: 'wildcard' } : { kind: 'lpm', value, prefixLen: len };
      }
      case 'ternary': {
        const value = check('value', m.value);
        const mask = check('mask', m.mask);
        if (((value & ~mask) >>> 0) !== 0) {
          throw bad(`value ${hex(value)} has bits outside mask ${hex(mask)}`);
        }
        return mask === 0 ? { kind: 'wildcard' } : { kind: 'ternary', value, mask };
      }
      case 'range': {
        const low = check('low', m.low);
        const high = check('high', m.high);
        if (low > high) throw bad(`range low ${low} > high ${high}`);
        return low === 0 && high === widthMask(spec.width) ? { kind: 'wildcard' } : { kind: 'range', low, high };
      }
      default:
        throw bad(`unknown match kind ${String((m as { kind: unknown }).kind)}`);
    }
  }

  private describe(match: readonly FieldMatch[], priority: number): string {
    const parts = match.map((m, i) => `${this.keys[i]!.name}=${formatMatch(m)}`);
    return `[${parts.join(', ')}]${this.requiresPriority ? ` priority ${priority}` : ''}`;
  }
}

const KINDS: readonly MatchKind[] = ['exact', 'lpm', 'ternary', 'range', 'optional'];

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

function formatMatch(m: FieldMatch): string {
  switch (m.kind) {
    case 'exact':
    case 'optional':
      return hex(m.value);
    case 'lpm':
      return `${hex(m.value)}/${m.prefixLen}`;
    case 'ternary':
      return `${hex(m.value)}&&&${hex(m.mask)}`;
    case 'range':
      return `${hex(m.low)}..${hex(m.high)}`;
    case 'wildcard':
      return '*';
  }
}

function identity(match: readonly FieldMatch[], priority: number): string {
  return `${match.map(formatMatch).join(',')}#${priority}`;
}

/**
 * Open-addressing hash index over packed 32-bit key fields (linear probing, backward-shift
 * deletion, load <= 1/2). Used instead of a Map with a composite number or string key: a
 * lookup builds no string and boxes no number (keys >= 2^30 would be heap numbers as Map
 * keys), whatever the total key width.
 */
class KeyIndex<E extends { readonly key: Int32Array }> {
  count = 0;
  private cap = 8;
  private slotMask = 7;
  private keys: Int32Array;
  private hashes: Int32Array;
  private vals: (E | undefined)[];
  private readonly scratch: Int32Array;

  constructor(
    private readonly n: number,
    private readonly widthMasks: Int32Array,
  ) {
    this.keys = new Int32Array(this.cap * n);
    this.hashes = new Int32Array(this.cap);
    this.vals = new Array<E | undefined>(this.cap).fill(undefined);
    this.scratch = new Int32Array(n);
  }

  /** Field `maskField` (or none when -1) is additionally ANDed with `fieldMask`. */
  find(key: ArrayLike<number>, maskField: number, fieldMask: number): E | undefined {
    const n = this.n;
    const s = this.scratch;
    const wm = this.widthMasks;
    let h = 0x2545f491;
    for (let f = 0; f < n; f++) {
      let v = key[f]! & wm[f]!;
      if (f === maskField) v &= fieldMask;
      s[f] = v;
      h = mix(h, v);
    }
    h = fmix(h);
    const keys = this.keys;
    const vals = this.vals;
    const sm = this.slotMask;
    for (let i = h & sm; ; i = (i + 1) & sm) {
      const e = vals[i];
      if (e === undefined) return undefined;
      if (this.hashes[i] !== h) continue;
      let f = 0;
      const base = i * n;
      while (f < n && keys[base + f] === s[f]) f++;
      if (f === n) return e;
    }
  }

  /** The caller guarantees the key is not present. */
  insert(e: E): void {
    if ((this.count + 1) * 2 > this.cap) this.grow();
    this.place(e, hashKey(e.key, this.n));
    this.count++;
  }

  remove(e: E): void {
    const sm = this.slotMask;
    const n = this.n;
    let i = hashKey(e.key, n) & sm;
    while (this.vals[i] !== e) {
      if (this.vals[i] === undefined) return;
      i = (i + 1) & sm;
    }
    // Backward shift: pull later members of the probe run into the hole unless their home
    // slot lies cyclically in (hole, j], where moving them would put them before home.
    let hole = i;
    for (let j = (i + 1) & sm; this.vals[j] !== undefined; j = (j + 1) & sm) {
      const home = this.hashes[j]! & sm;
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      this.vals[hole] = this.vals[j];
      this.hashes[hole] = this.hashes[j]!;
      this.keys.copyWithin(hole * n, j * n, j * n + n);
      hole = j;
    }
    this.vals[hole] = undefined;
    this.count--;
  }

  private place(e: E, h: number): void {
    const sm = this.slotMask;
    let i = h & sm;
    while (this.vals[i] !== undefined) i = (i + 1) & sm;
    this.vals[i] = e;
    this.hashes[i] = h;
    this.keys.set(e.key, i * this.n);
  }

  private grow(): void {
    const old = this.vals;
    const oldHashes = this.hashes;
    this.cap *= 2;
    this.slotMask = this.cap - 1;
    this.keys = new Int32Array(this.cap * this.n);
    this.hashes = new Int32Array(this.cap);
    this.vals = new Array<E | undefined>(this.cap).fill(undefined);
    for (let i = 0; i < old.length; i++) {
      const e = old[i];
      if (e !== undefined) this.place(e, oldHashes[i]!);
    }
  }
}

function mix(h: number, v: number): number {
  let k = Math.imul(v, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function hashKey(key: Int32Array, n: number): number {
  let h = 0x2545f491;
  for (let f = 0; f < n; f++) h = mix(h, key[f]!);
  return fmix(h);
}
