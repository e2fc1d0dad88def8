/**
 * Seeded PRNG tree. Every random choice in a run comes from a stream forked by label from the
 * scenario's seed, so adding a consumer never shifts the numbers another consumer sees.
 * Generator: sfc32 (small, fast, passes PractRand to 2^40+), seeded through splitmix32.
 */
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform 32-bit unsigned integer */
  nextU32(): number;
  /** uniform integer in [0, n) */
  int(n: number): number;
  /** an independent stream named by label */
  fork(label: string): Rng;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * FNV-1a over the label, mixed with a key: a child stream's key from its parent's, and any
 * other per-name value derived from a seed (e.g. a switch's hash seed).
 */
export function mixLabel(key: number, label: string): number {
  let h = (0x811c9dc5 ^ key) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(private readonly key: number) {
    const sm = splitmix32(key);
    this.a = sm();
    this.b = sm();
    this.c = sm();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  fork(label: string): Rng {
    return new Sfc32(mixLabel(this.key, label));
  }
}

export function createRng(seed: number): Rng {
  return new Sfc32(mixLabel(0, `seed:${seed}`));
}
