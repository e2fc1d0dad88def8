/**
 * A P4 register array. Values live in a typed array of the register's signedness and wrap to
 * its width on every write, as P4's bit<w>/int<w> arithmetic does (two's complement for
 * int<w>), so a program cannot observe a value its hardware register could not hold.
 */
import { PassClock, TouchTracker } from './touch-tracker.js';

export class Register {
  readonly name: string;
  readonly width: number;
  readonly size: number;
  readonly signed: boolean;
  private readonly cells: Int32Array | Uint32Array;
  /** 32 - width: the shift pair that sign-extends (signed) or truncates (unsigned) */
  private readonly shift: number;
  /** how often packets touch the register (see touch-tracker.ts); set by the program builder */
  private tracker: TouchTracker | null = null;

  constructor(name: string, width: number, size: number, signed = false) {
    if (!Number.isInteger(width) || width < 1 || width > 32) {
      throw new RangeError(`register ${name}: width ${width} is not in 1..32`);
    }
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`register ${name}: size ${size} is not a positive integer`);
    }
    this.name = name;
    this.width = width;
    this.size = size;
    this.signed = signed;
    this.shift = 32 - width;
    this.cells = signed ? new Int32Array(size) : new Uint32Array(size);
  }

  /**
   * Counts, from now on, the accesses each pass of a packet makes (pass clock of the pipeline).
   * `lanes` > 1 declares the array as that many registers side by side, cell i in lane
   * i mod lanes (SwitchML's one register per element of a packet): one access per lane per
   * pass is one access per register.
   */
  trackTouches(clock: PassClock, lanes = 1): void {
    this.tracker = new TouchTracker(clock, lanes);
  }

  /** Passes that touched some lane of the register more than once, and the most touches one pass made. */
  touches(): { repeatedPasses: number; maxPerPass: number } {
    const t = this.tracker;
    return t === null ? { repeatedPasses: 0, maxPerPass: 0 } : { repeatedPasses: t.repeatedPasses, maxPerPass: t.maxPerPass };
  }

  /** Storage in bits, what a target's register budget is charged. */
  get bits(): number {
    return this.width * this.size;
  }

  /** v reduced modulo 2^width into the register's range (v must be an integer below 2^53). */
  wrap(v: number): number {
    // `<<` applies ToInt32 (mod 2^32) first; the shift pair then keeps the low `width` bits.
    const s = this.shift;
    return this.signed ? (v << s) >> s : ((v << s) >>> s);
  }

  read(i: number): number {
    this.check(i);
    return this.cells[i]!;
  }

  write(i: number, v: number): void {
    this.check(i);
    this.cells[i] = this.wrap(v);
  }

  /** Returns the new (wrapped) value. */
  add(i: number, v: number): number {
    this.check(i);
    const r = this.wrap(this.cells[i]! + v);
    this.cells[i] = r;
    return r;
  }

  /** Keeps the larger of the stored value and wrap(v); returns the new value. */
  max(i: number, v: number): number {
    this.check(i);
    const w = this.wrap(v);
    const old = this.cells[i]!;
    const r = w > old ? w : old;
    this.cells[i] = r;
    return r;
  }

  /** Read-modify-write as one step (what a stateful ALU does); returns the old value. */
  rmw(i: number, f: (old: number) => number): number {
    this.check(i);
    const old = this.cells[i]!;
    this.cells[i] = this.wrap(f(old));
    return old;
  }

  reset(): void {
    this.cells.fill(0);
  }

  /** A copy of all cells, for the control plane. */
  readAll(): number[] {
    return Array.from(this.cells);
  }

  /**
   * One read-modify-write of cell i as a single access (a stateful ALU's RegisterAction):
   * returns the new (wrapped) value of `update(old, arg)`.
   */
  execute(i: number, update: (old: number, arg: number) => number, arg: number): number {
    this.check(i);
    const r = this.wrap(update(this.cells[i]!, arg));
    this.cells[i] = r;
    return r;
  }

  private check(i: number): void {
    // One comparison pair covers negatives, fractions, NaN and out-of-range.
    if (!((i >>> 0) === i && i < this.size)) {
      throw new RangeError(`register ${this.name}: index ${i} out of range 0..${this.size - 1}`);
    }
    if (this.tracker !== null) this.tracker.touch(i);
  }
}
