import type { Rng } from '../../net/rng.js';

/**
 * P4's `random(out result, lo, hi)`, drawing from the switch's seeded stream so runs replay.
 * Exactly uniform: draws are rejected above the largest multiple of the range size, which
 * happens with probability below 1/2 per draw and almost never for the small ranges
 * programs use.
 */
export class RandomExtern {
  constructor(private readonly rng: Rng) {}

  /** A uniform integer in [lo, hi]; lo and hi are integers with 0 <= hi - lo < 2^32. */
  read(lo: number, hi: number): number {
    const n = hi - lo + 1;
    if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && n >= 1 && n <= 0x100000000)) {
      throw new RangeError(`random: bounds [${lo}, ${hi}] are not integers with 0 <= hi - lo < 2^32`);
    }
    if (n === 0x100000000) return lo + this.rng.nextU32();
    const limit = 0x100000000 - (0x100000000 % n);
    let u = this.rng.nextU32();
    while (u >= limit) u = this.rng.nextU32();
    return lo + (u % n);
  }
}
