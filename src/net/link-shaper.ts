import type { Clock, Timer } from './clock.js';
import type { QueueConfig } from './egress-queue.js';
import { NS_PER_US } from './clock.js';
import type { DirectionStats, FrameHandler, Port } from './port.js';
import { emptyDirectionStats } from './port.js';
import { Ring } from './ring.js';
import type { Rng } from './rng.js';

/**
 * How one direction of a link behaves: its wire (rate, delay, jitter, loss, reordering,
 * duplication, carried by LinkPort below) and the egress queue in front of it at the sending
 * end (queueBytes, ecnThresholdBytes, kept by that end's EgressQueue). The scenario's `links`
 * section sets both, per link, so they travel together as one config.
 */
export interface LinkConfig {
  /** serialization rate in Gbit/s; 0 = unshaped (infinitely fast, no queue builds) */
  rateGbps: number;
  /** one-way propagation delay */
  delayUs: number;
  /** extra delay per frame, uniform in [0, jitterUs); never reorders on its own */
  jitterUs: number;
  /** probability a frame is lost on the wire (after it was serialized) */
  lossRate: number;
  /** probability a frame is held back and delivered after the next frame */
  reorderRate: number;
  /** probability a frame is delivered twice */
  duplicateRate: number;
  /** egress queue capacity; a frame that does not fit is tail-dropped */
  queueBytes: number;
  /** mark ECT frames CE when enqueued above this many queued bytes; 0 = off */
  ecnThresholdBytes: number;
}

/** The wire's share of a link's config. */
export type WireConfig = Pick<LinkConfig, 'rateGbps' | 'delayUs' | 'jitterUs' | 'lossRate' | 'reorderRate' | 'duplicateRate'>;

/** The egress queue's share of a link's config (at either end). */
export function queueConfigOf(c: LinkConfig): QueueConfig {
  return { rateGbps: c.rateGbps, queueBytes: c.queueBytes, ecnThresholdBytes: c.ecnThresholdBytes };
}

export const DEFAULT_LINK: Readonly<LinkConfig> = Object.freeze({
  rateGbps: 0,
  delayUs: 0,
  jitterUs: 0,
  lossRate: 0,
  reorderRate: 0,
  duplicateRate: 0,
  queueBytes: 1_048_576,
  ecnThresholdBytes: 0,
});

/**
 * A frame chosen for reordering waits for the next frame to pass it, but not forever: after
 * this long past its own delivery time (or 4 of its serialization times, if longer) it goes
 * out alone, late but not reordered, so a lone last frame cannot be stranded.
 */
export const REORDER_HOLD_MIN_NS = 20 * NS_PER_US;

/** Fills defaults and rejects nonsense with a message naming the field. */
export function linkConfig(cfg: Partial<LinkConfig> = {}): LinkConfig {
  const c: LinkConfig = { ...DEFAULT_LINK, ...cfg };
  const nonNeg = (k: keyof LinkConfig, allowInf = false): void => {
    const v = c[k];
    if (typeof v !== 'number' || !(v >= 0) || (!allowInf && v === Infinity)) {
      throw new RangeError(`link config: ${k} must be a ${allowInf ? '' : 'finite '}number >= 0, got ${v}`);
    }
  };
  const prob = (k: keyof LinkConfig): void => {
    const v = c[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new RangeError(`link config: ${k} must be a probability in [0, 1], got ${v}`);
    }
  };
  nonNeg('rateGbps');
  nonNeg('delayUs');
  nonNeg('jitterUs');
  prob('lossRate');
  prob('reorderRate');
  prob('duplicateRate');
  nonNeg('queueBytes', true);
  nonNeg('ecnThresholdBytes');
  return c;
}

/**
 * The wire of one direction of a link, as a wrapper around any Port (as smoltcp's
 * FaultInjector wraps a device): the switch and host code never grow flags for it, and it
 * works the same over the sim and the UDP transport. Only the send direction is emulated;
 * receive passes straight through to the inner port.
 *
 * A frame enters the wire at its departure time: the moment its last bit left the egress
 * queue in front (carry(), from the sender's EgressQueue), or now (send(), with no queue).
 * From there: lost with probability lossRate (stats.lost); otherwise delivered after delayUs
 * plus jitter, but never before the previous frame (jitter alone does not reorder); with
 * probability duplicateRate a copy follows it (stats.duplicated); with probability
 * reorderRate it is held back and delivered right after the next frame (stats.reordered,
 * counted when that actually happens).
 *
 * Every random draw happens at entry, in send order, from the given Rng, and every time comes
 * from the given Clock, so on a SimClock a run is reproducible bit for bit.
 *
 * Timers are wake-up hints: on each wake-up every frame whose delivery time has come goes
 * out (a batch). On a RealClock, where timers have ~1 ms granularity, that keeps the average
 * rate and delay right while individual frames leave in bursts.
 */
export class LinkPort implements Port {
  readonly name: string;
  readonly config: Readonly<WireConfig>;
  /** frames handed to the inner port, duplicates included (what the far end should receive) */
  forwarded = 0;
  /**
   * Called with the time of each wake-up before its frames go out, so the queue in front
   * settles to the same instant the wire does (set by the sender that owns that queue).
   */
  settle: ((t: number) => void) | null = null;

  /** nothing to emulate: a frame departing now goes straight to the inner port */
  readonly passthrough: boolean;
  private readonly nsPerByte: number;
  private readonly delayNs: number;
  private readonly jitterNs: number;
  private readonly lossRate: number;
  private readonly dupRate: number;
  private readonly reorderRate: number;

  // Frames on their way to the inner port, in delivery order; times are non-decreasing.
  private readonly wire = new Ring<Uint8Array>();
  private readonly wireAt = new Ring<number>();
  private lastDeliver = -Infinity;
  private wake: Timer | null = null;
  private wakeFor = 0;

  // The frame held back for reordering (at most one at a time), and its duplicate if any.
  private held: Uint8Array | null = null;
  private heldCopy: Uint8Array | null = null;
  /** when the held frame would have been delivered had it not been held */
  private heldAt = 0;
  private heldTimer: Timer | null = null;

  private isClosed = false;

  /** `stats` may be shared with the queue in front (one report row per direction). */
  constructor(
    private readonly inner: Port,
    private readonly clock: Clock,
    cfg: Partial<LinkConfig>,
    private readonly rng: Rng,
    private readonly s: DirectionStats = emptyDirectionStats(),
  ) {
    const c = linkConfig(cfg);
    this.config = Object.freeze({
      rateGbps: c.rateGbps, delayUs: c.delayUs, jitterUs: c.jitterUs,
      lossRate: c.lossRate, reorderRate: c.reorderRate, duplicateRate: c.duplicateRate,
    });
    this.name = inner.name;
    this.nsPerByte = c.rateGbps > 0 ? 8 / c.rateGbps : 0;
    this.delayNs = c.delayUs * NS_PER_US;
    this.jitterNs = c.jitterUs * NS_PER_US;
    this.lossRate = c.lossRate;
    this.dupRate = c.duplicateRate;
    this.reorderRate = c.reorderRate;
    this.passthrough =
      c.rateGbps === 0 &&
      c.delayUs === 0 &&
      c.jitterUs === 0 &&
      c.lossRate === 0 &&
      c.reorderRate === 0 &&
      c.duplicateRate === 0;
  }

  /** The inner port (e.g. to read transport-level counters). */
  get innerPort(): Port {
    return this.inner;
  }

  /** The wire's counters (lost, duplicated, reordered; drops of frames sent after close). */
  get stats(): DirectionStats {
    return this.s;
  }

  /** Whether the link is cut (closed): whatever is sent is dropped. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Frames on the wire, not yet handed to the inner port (propagating or held). */
  inFlight(): number {
    return this.wire.length + (this.held === null ? 0 : this.heldCopy === null ? 1 : 2);
  }

  /** A wire has no queue: a frame sent on it departs at once. */
  queuedBytes(): number {
    return 0;
  }

  onReceive(handler: FrameHandler): void {
    this.inner.onReceive(handler);
  }

  /** A frame with no queue in front: it departs now, its transmission counted here. */
  send(frame: Uint8Array): void {
    if (this.isClosed) {
      this.s.drops++;
      return;
    }
    this.s.bytes += frame.length;
    this.s.packets++;
    const now = this.clock.now();
    this.carry(frame, now, now);
  }

  /**
   * A frame whose last bit leaves the sender at `depart` (>= now), handed over at `now`.
   * The caller has checked `closed` and counted the transmission.
   */
  carry(frame: Uint8Array, depart: number, now: number): void {
    if (this.passthrough) {
      this.forwarded++;
      this.inner.send(frame);
      return;
    }
    const s = this.s;
    // Fate on the wire. Draw order is fixed (loss, jitter, duplicate, reorder) and each draw
    // happens only when its knob is on, so turning one knob on does not reshuffle the others'
    // numbers for a config that never used them.
    if (this.lossRate > 0 && this.rng.next() < this.lossRate) {
      s.lost++;
      return;
    }
    let at = depart + this.delayNs;
    if (this.jitterNs > 0) at += this.rng.next() * this.jitterNs;
    const dup = this.dupRate > 0 && this.rng.next() < this.dupRate;
    const reorder = this.reorderRate > 0 && this.rng.next() < this.reorderRate;
    // The copy is taken now: once the original is delivered its receiver owns and may
    // rewrite it.
    const copy = dup ? frame.slice() : null;
    if (dup) s.duplicated++;

    if (reorder && this.held === null) {
      this.hold(frame, copy, at, frame.length);
      return;
    }
    this.toWire(frame, at, now);
    if (copy !== null) this.toWire(copy, at, now);
    if (this.held !== null) {
      // This frame was sent after the held one and is now ahead of it: that is the reorder.
      s.reordered++;
      this.releaseHeld(now);
    }
  }

  /** Closes the inner port; frames still propagating or held are discarded. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.wake?.cancel();
    this.wake = null;
    this.heldTimer?.cancel();
    this.heldTimer = null;
    this.held = null;
    this.heldCopy = null;
    this.wire.clear();
    this.wireAt.clear();
    this.inner.close();
  }

  private toWire(frame: Uint8Array, at: number, now: number): void {
    if (at < this.lastDeliver) at = this.lastDeliver; // FIFO: jitter never reorders
    this.lastDeliver = at;
    if (this.wire.length === 0 && at <= now) {
      // Due already and nothing ahead of it: no timer needed (the rate-0, delay-0 case).
      this.forwarded++;
      this.inner.send(frame);
      return;
    }
    this.wire.push(frame);
    this.wireAt.push(at);
    if (this.wake === null) this.arm(at);
  }

  private arm(at: number): void {
    this.wakeFor = at;
    this.wake = this.clock.setTimer(at - this.clock.now(), this.onWake);
  }

  private readonly onWake = (): void => {
    this.wake = null;
    if (this.isClosed) return;
    // Everything up to the time this wake-up was armed for is due even if the clock reads a
    // hair earlier (float rounding of now + (at - now) on a SimClock; Node starting a
    // timeout from the loop's cached time on a RealClock). Otherwise we could re-arm for
    // ~0 ns again and again.
    const now = this.clock.now();
    const due = now > this.wakeFor ? now : this.wakeFor;
    if (this.nsPerByte > 0) this.settle?.(due);
    while (this.wire.length > 0 && this.wireAt.peek()! <= due) {
      this.wireAt.shift();
      const f = this.wire.shift()!;
      this.forwarded++;
      this.inner.send(f);
      if (this.isClosed) return;
    }
    if (this.wire.length > 0) this.arm(this.wireAt.peek()!);
  };

  private hold(frame: Uint8Array, copy: Uint8Array | null, at: number, len: number): void {
    this.held = frame;
    this.heldCopy = copy;
    this.heldAt = at;
    const holdNs = Math.max(REORDER_HOLD_MIN_NS, 4 * len * this.nsPerByte);
    this.heldTimer = this.clock.setTimer(at + holdNs - this.clock.now(), this.onHeldTimeout);
  }

  /** Puts the held frame (and its copy) on the wire behind everything already there. */
  private releaseHeld(now: number): void {
    const f = this.held!;
    const c = this.heldCopy;
    this.held = null;
    this.heldCopy = null;
    this.heldTimer?.cancel();
    this.heldTimer = null;
    // Never earlier than its own delivery time; toWire also puts it behind the frame(s)
    // already on the wire, which is what makes it arrive out of order.
    this.toWire(f, this.heldAt, now);
    if (c !== null) this.toWire(c, this.heldAt, now);
  }

  private readonly onHeldTimeout = (): void => {
    this.heldTimer = null;
    if (this.closed || this.held === null) return;
    this.releaseHeld(this.clock.now());
  };
}
