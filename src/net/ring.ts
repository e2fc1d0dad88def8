/**
 * A growable FIFO ring buffer.
 *
 * Why not a plain array with push/shift: Array.prototype.shift is O(n) once an array is large
 * (V8 only has a fast path for small arrays), and an array with a moving head index keeps
 * growing while the queue never fully drains. The SimClock's same-time queue and the
 * ShapedPort's in-flight queue are exactly that steady-state kind of queue.
 *
 * Capacity is a power of two so the index wraps with a mask; it doubles when full and never
 * shrinks (queues in a run tend to return to their high-water mark).
 */
export class Ring<T> {
  private buf: (T | undefined)[];
  private mask: number;
  private head = 0;
  private size = 0;

  constructor(initialCapacity = 16) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.buf = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.size;
  }

  push(v: T): void {
    if (this.size > this.mask) this.grow();
    this.buf[(this.head + this.size) & this.mask] = v;
    this.size++;
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const i = this.head;
    const v = this.buf[i];
    this.buf[i] = undefined; // let the GC have it (frames can be large)
    this.head = (i + 1) & this.mask;
    this.size--;
    return v;
  }

  /** The oldest item without removing it; undefined when empty. */
  peek(): T | undefined {
    return this.size === 0 ? undefined : this.buf[this.head];
  }

  /** The i-th oldest item (0 = head); undefined when out of range. */
  at(i: number): T | undefined {
    return i < 0 || i >= this.size ? undefined : this.buf[(this.head + i) & this.mask];
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.size = 0;
  }

  /** Keeps only the items for which keep() is true, in order. O(n). */
  retain(keep: (v: T) => boolean): void {
    const n = this.size;
    let w = 0;
    for (let r = 0; r < n; r++) {
      const v = this.buf[(this.head + r) & this.mask] as T;
      if (keep(v)) this.buf[(this.head + w++) & this.mask] = v;
    }
    for (let i = w; i < n; i++) this.buf[(this.head + i) & this.mask] = undefined;
    this.size = w;
  }

  private grow(): void {
    const old = this.buf;
    const cap = old.length;
    const next = new Array<T | undefined>(cap * 2).fill(undefined);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & this.mask];
    this.buf = next;
    this.mask = cap * 2 - 1;
    this.head = 0;
  }
}
