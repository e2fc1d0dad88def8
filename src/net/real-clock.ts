import type { Clock, Timer } from './clock.js';
import { NS_PER_MS } from './clock.js';

/**
 * One pending Node timer. Either an Immediate (delay <= 0) or a Timeout; cancel() clears
 * whichever it is and is idempotent (clearing a fired or cleared handle is harmless, but we
 * drop the reference anyway so a cancelled timer does not pin its callback).
 */
class RealTimer implements Timer {
  constructor(
    private imm: NodeJS.Immediate | null,
    private tmo: NodeJS.Timeout | null,
  ) {}

  cancel(): void {
    if (this.imm !== null) {
      clearImmediate(this.imm);
      this.imm = null;
    }
    if (this.tmo !== null) {
      clearTimeout(this.tmo);
      this.tmo = null;
    }
  }
}

/**
 * The process's monotonic time, for the real-UDP mode.
 *
 * now() is nanoseconds since this clock was constructed (process.hrtime.bigint, so immune to
 * wall-clock steps), as a number: exact to 2^53 ns, about 104 days of uptime.
 *
 * Granularity of setTimer, which callers must design for:
 * - delay <= 0 runs on the next turn of the event loop (setImmediate), after pending I/O.
 * - delay > 0 uses setTimeout(delayNs / 1e6 ms). Node clamps anything under 1 ms up to 1 ms,
 *   and libuv timers are millisecond-resolution and may fire late under load (and up to
 *   about a millisecond "early" against now(), because Node starts the timeout from the
 *   event loop's cached time). So a timer is a wake-up hint, not a deadline: a caller that
 *   needs sub-millisecond pacing (e.g. a link at 10 Gbit/s, 870 ns per 1 KiB frame) must, on
 *   each wake-up, compare now() against its own schedule and do ALL the work that has come
 *   due (batching), as ShapedPort does. Then the average rate is exact even though
 *   individual frames leave in ~1 ms bursts.
 */
export class RealClock implements Clock {
  readonly kind = 'real' as const;
  private readonly origin: bigint;

  constructor() {
    this.origin = process.hrtime.bigint();
  }

  now(): number {
    return Number(process.hrtime.bigint() - this.origin);
  }

  setTimer(delayNs: number, fn: () => void): Timer {
    if (delayNs !== delayNs) throw new RangeError('RealClock.setTimer: delay is NaN');
    if (delayNs <= 0) return new RealTimer(setImmediate(fn), null);
    // setTimeout would silently turn Infinity (or > 2^31-1 ms) into 1 ms; refuse instead.
    const ms = delayNs / NS_PER_MS;
    if (!(ms <= 0x7fffffff)) throw new RangeError(`RealClock.setTimer: delay ${delayNs} ns too long`);
    return new RealTimer(null, setTimeout(fn, ms));
  }
}
