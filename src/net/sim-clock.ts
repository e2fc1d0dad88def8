import type { Clock, Timer } from './clock.js';
import { Ring } from './ring.js';

/**
 * One scheduled callback. The record is the Timer handed back to the caller, so scheduling
 * allocates exactly one object (plus nothing when a caller uses setTimerArg with a
 * preallocated function instead of a fresh closure).
 *
 * fn === null means "no longer pending": it already ran or was cancelled. Cancellation is
 * lazy: the record stays in the queue and is skipped when it surfaces, because removing an
 * arbitrary element from a binary heap needs an index back-pointer kept up to date on every
 * sift, which costs more than the occasional dead entry.
 */
class SimTimer implements Timer {
  constructor(
    private readonly clock: SimClock,
    readonly time: number,
    readonly seq: number,
    public fn: ((arg: any) => void) | null,
    public arg: unknown,
  ) {}

  cancel(): void {
    if (this.fn === null) return;
    this.fn = null;
    this.arg = undefined;
    this.clock._cancelled();
  }
}

export type RunResult = 'done' | 'idle' | 'limit';

/** Lexicographic (time, seq): ties in time break by insertion order. */
function before(a: SimTimer, b: SimTimer): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * Deterministic virtual time. Nothing happens until someone calls step/runUntil/runFor;
 * each event runs to completion, and virtual time jumps to the next event's time.
 *
 * Queue structure: a binary min-heap on (time, seq) for future events, plus a FIFO ring for
 * events due at exactly the current time (setTimer(0, ...), which is what every SimTransport
 * delivery is). The FIFO is exact, not an approximation: an event in the heap with
 * time == now was necessarily inserted while the clock was still earlier, so its seq is
 * smaller than every entry of the FIFO (all of which were inserted at time now); hence
 * "heap head if it is due now, else FIFO head" is the (time, seq) order. And time only
 * advances when the FIFO is empty. This makes same-time delivery O(1) instead of O(log n).
 */
export class SimClock implements Clock {
  readonly kind = 'sim' as const;

  private nowNs = 0;
  private seq = 0;
  private readonly heap: SimTimer[] = [];
  private readonly nowQ = new Ring<SimTimer>(64);
  /** events scheduled and neither run nor cancelled */
  private live = 0;
  /** cancelled records still sitting in heap or nowQ */
  private dead = 0;
  private running = false;
  /** total events run since construction (for benchmarks and sanity checks) */
  eventsRun = 0;

  constructor(startNs = 0) {
    this.nowNs = startNs;
  }

  now(): number {
    return this.nowNs;
  }

  /** Number of events scheduled that have neither run nor been cancelled. */
  get pending(): number {
    return this.live;
  }

  setTimer(delayNs: number, fn: () => void): Timer {
    return this.setTimerArg(delayNs, fn, undefined);
  }

  /**
   * setTimer for hot paths: runs fn(arg) without the caller allocating a closure per event
   * (fn can be a method bound once). Not part of the Clock interface: sim-only.
   */
  setTimerArg<T>(delayNs: number, fn: (arg: T) => void, arg: T): Timer {
    if (!(delayNs > 0)) {
      // NaN is a caller bug that would otherwise poison the heap order forever.
      if (delayNs !== delayNs) throw new RangeError('SimClock.setTimer: delay is NaN');
      delayNs = 0;
    } else if (delayNs === Infinity) {
      throw new RangeError('SimClock.setTimer: delay is infinite');
    }
    // Route by the computed time, not by delay === 0: a tiny positive delay can round to
    // now + d === now, and such an event must still sort after everything already due now.
    const time = this.nowNs + delayNs;
    const t = new SimTimer(this, time, this.seq++, fn, arg);
    this.live++;
    if (time === this.nowNs) this.nowQ.push(t);
    else this.heapPush(t);
    return t;
  }

  /** Runs the next pending event. Returns false when there is none. */
  step(): boolean {
    this.notReentrant();
    const t = this.take(Infinity);
    if (t === null) return false;
    this.run(t);
    return true;
  }

  /**
   * Runs events in order until done() is true (checked before the first event and after
   * every event), the queue is empty, or the next event lies beyond the limit.
   *
   * limitNs is RELATIVE to the virtual time at the call: events at times <= now + limitNs
   * run (inclusive). On 'limit' the clock is advanced to exactly now + limitNs, so repeated
   * calls make progress and time behaves as if that much time had passed with nothing due.
   * On 'idle' and 'done' the clock stays at the time of the last event run.
   */
  runUntil(done: () => boolean, limitNs = Infinity): RunResult {
    this.notReentrant();
    if (done()) return 'done';
    const deadline = this.nowNs + limitNs;
    for (;;) {
      const t = this.take(deadline);
      if (t === null) {
        if (this.live === 0) return 'idle';
        this.nowNs = deadline;
        return 'limit';
      }
      this.run(t);
      if (done()) return 'done';
    }
  }

  /**
   * Runs every event due within the next ns (inclusive) and leaves the clock at now + ns,
   * even if the queue ran dry earlier. Returns the number of events run.
   */
  runFor(ns: number): number {
    if (!(ns >= 0) || ns === Infinity) throw new RangeError(`SimClock.runFor: bad duration ${ns}`);
    this.notReentrant();
    const deadline = this.nowNs + ns;
    let n = 0;
    for (let t = this.take(deadline); t !== null; t = this.take(deadline)) {
      this.run(t);
      n++;
    }
    this.nowNs = deadline;
    return n;
  }

  /** Runs until no events remain (or maxEvents ran, to bound runaway loops). Returns events run. */
  runAll(maxEvents = Infinity): number {
    let n = 0;
    while (n < maxEvents && this.step()) n++;
    return n;
  }

  /** Time of the next pending event, or Infinity. Discards cancelled records on the way. */
  nextTime(): number {
    for (;;) {
      const q = this.nowQ.peek();
      const h = this.heap.length > 0 ? this.heap[0]! : undefined;
      const fromQ = q !== undefined && (h === undefined || h.time > this.nowNs);
      const t = fromQ ? q : h;
      if (t === undefined) return Infinity;
      if (t.fn !== null) return t.time;
      if (fromQ) this.nowQ.shift();
      else this.heapPop();
      this.dead--;
    }
  }

  /** @internal called by SimTimer.cancel */
  _cancelled(): void {
    this.live--;
    this.dead++;
    // Lazy cancellation must not let dead records dominate memory (e.g. a retransmit timer
    // armed and cancelled per packet). Rebuild once they outnumber the live ones.
    if (this.dead > 1024 && this.dead > this.live) this.compact();
  }

  /** Pops the next live event with time <= deadline, or null (leaving later events queued). */
  private take(deadline: number): SimTimer | null {
    for (;;) {
      const q = this.nowQ.peek();
      const h = this.heap.length > 0 ? this.heap[0]! : undefined;
      let t: SimTimer;
      if (q !== undefined && (h === undefined || h.time > this.nowNs)) {
        // Due now, so always within the deadline (deadline >= now).
        t = q;
        this.nowQ.shift();
      } else if (h !== undefined) {
        if (h.time > deadline) {
          if (h.fn !== null) return null;
        }
        t = this.heapPop();
      } else {
        return null;
      }
      if (t.fn === null) {
        this.dead--;
        continue;
      }
      return t;
    }
  }

  private run(t: SimTimer): void {
    const fn = t.fn!;
    const arg = t.arg;
    // Mark not pending before the call, so a cancel() of itself from inside fn is a no-op.
    t.fn = null;
    t.arg = undefined;
    this.live--;
    this.nowNs = t.time;
    this.eventsRun++;
    this.running = true;
    try {
      fn(arg);
    } finally {
      this.running = false;
    }
  }

  // Running the queue from inside an event would let time jump under the outer event's feet.
  private notReentrant(): void {
    if (this.running) throw new Error('SimClock: step/run called from inside an event callback');
  }

  private compact(): void {
    const h = this.heap;
    let w = 0;
    for (let r = 0; r < h.length; r++) if (h[r]!.fn !== null) h[w++] = h[r]!;
    h.length = w;
    for (let i = (w >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.nowQ.retain((t) => t.fn !== null);
    this.dead = 0;
  }

  private heapPush(t: SimTimer): void {
    const h = this.heap;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!before(t, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = t;
  }

  private heapPop(): SimTimer {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      const child = h[c]!;
      if (!before(child, t)) break;
      h[i] = child;
      i = c;
    }
    h[i] = t;
  }
}
