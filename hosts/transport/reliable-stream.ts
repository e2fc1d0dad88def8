import type { Clock, Timer } from '../../src/net/clock.js';
import { NS_PER_MS, NS_PER_US } from '../../src/net/clock.js';
import { RtoEstimator, type RtoPolicy } from './rto-estimator.js';

/**
 * A reliable, windowed stream of frames from one host to one peer, over a network that loses,
 * reorders and duplicates: selective repeat with cumulative + selective ACKs, an adaptive RTO
 * (Jacobson/Karels, RFC 6298) with exponential back-off while nothing is acknowledged, RACK-style
 * loss detection from echoed timestamps, slow start up to a fixed window, and a bounded number
 * of transmissions per frame after which the peer is declared dead. Frames are named by the caller with two integers (a, b) and rebuilt on every
 * (re)transmission, so the sender never holds a frame it has handed to a port.
 *
 * Everything is callback driven and allocation-free per frame: state lives in typed arrays
 * indexed by seq mod window, one timer per sender (scanning the oldest unacked frames), one
 * per receiver (delayed ACK).
 */

/** A stream's policy; the RTO's part (RtoPolicy) is read by its RtoEstimator. */
export interface ReliabilityPolicy extends RtoPolicy {
  /** frames in flight per sender; a power of two */
  readonly window: number;
  /**
   * frames in flight at the start of a stream; +1 per frame acknowledged up to `window`
   * (slow start), so RTT samples grow with the queues instead of meeting a full window of
   * queueing before the first one
   */
  readonly initialWindow: number;
  /**
   * a retransmission timer firing this late means the event loop was stalled: ACKs that
   * arrived meanwhile are still unread (timers run before I/O), so look again after I/O
   */
  readonly stallNs: number;
  /** transmissions of one frame (the first included) before the peer is declared dead */
  readonly maxTransmissions: number;
  /** a first transmission counts as lost only once a frame this many seqs after it is acked */
  readonly dupThresh: number;
  /** the receiver acks every this many in-order frames ... */
  readonly ackEvery: number;
  /** ... or this long after the first un-acked one arrived, whichever is first */
  readonly ackDelayNs: number;
}

/**
 * Sim: virtual µs-scale RTTs, exact timers; the first RTO (20 ms) covers the first round of
 * slow start on links down to ~7 Mbit/s, the floor (200 µs) is above the 10 µs ACK delay and a
 * few frame times at 10 Gbit/s. The window (256 frames, 268 KiB) keeps two or three streams
 * sharing a link inside its default 1 MiB queue. Udp: everything runs in one event loop with
 * timers of >= 1 ms granularity (see src/net/real-clock.ts) and RTTs that grow with load, so
 * the floor and first guess are in milliseconds, and a delayed ACK is flushed on the next
 * turn of the loop (setImmediate), which coalesces a batch of arrivals into one ACK. The RTO
 * floor (rtoSrtts): 2·srtt in sim covers a neighbour's backlog landing in front of the ACKs;
 * over UDP every frame of every node is processed by one event loop, so the RTT grows with the
 * total in flight and doubles with each round of slow start: 4·srtt there.
 */
export function reliabilityPolicy(clock: Clock): ReliabilityPolicy {
  if (clock.kind === 'sim') {
    return {
      window: 256,
      initialWindow: 8,
      initialRtoNs: 20 * NS_PER_MS,
      minRtoNs: 200 * NS_PER_US,
      maxRtoNs: 50 * NS_PER_MS,
      granularityNs: 0,
      rtoSrtts: 2,
      stallNs: Infinity,
      maxTransmissions: 30,
      dupThresh: 3,
      minReorderWindowNs: 2 * NS_PER_US,
      ackEvery: 4,
      ackDelayNs: 10 * NS_PER_US,
    };
  }
  return {
    window: 256,
    initialWindow: 8,
    initialRtoNs: 250 * NS_PER_MS,
    minRtoNs: 20 * NS_PER_MS,
    maxRtoNs: 500 * NS_PER_MS,
    granularityNs: 1 * NS_PER_MS,
    rtoSrtts: 4,
    stallNs: 5 * NS_PER_MS,
    maxTransmissions: 30,
    dupThresh: 3,
    minReorderWindowNs: 200 * NS_PER_US,
    ackEvery: 4,
    ackDelayNs: 0,
  };
}

/**
 * How long a fresh stream takes to declare a peer that never answers dead: maxTransmissions
 * timeouts in a row, each twice the last, from the initial RTO, capped. (In general: at most
 * maxTransmissions · maxRtoNs after the last progress.)
 */
export function deadBoundNs(p: ReliabilityPolicy): number {
  let t = 0;
  for (let k = 0; k < p.maxTransmissions; k++) t += Math.min(p.maxRtoNs, p.initialRtoNs * 2 ** k);
  return t;
}

export type Schedule = (delayNs: number, fn: () => void) => Timer;

export interface SenderHooks {
  /** puts frame (a, b) with sequence number seq on the wire (again, if retransmission) */
  transmit(seq: number, a: number, b: number, retransmission: boolean): void;
  /** seq went unacknowledged after `transmissions` transmissions: the peer is dead */
  dead(seq: number, a: number, b: number, transmissions: number): void;
}

/** A timer that fires this early (ns) counts as on time (float rounding of now + delay). */
const SLACK_NS = 1;

/**
 * Loss recovery, two ways:
 * - RACK (RFC 8985): an ACK proves that the transmission it echoes (by timestamp) arrived;
 *   any unacked frame sent more than a reordering window before it is lost and goes again.
 *   This repairs losses (retransmissions included) while ACKs flow, without waiting for a
 *   timer. A first transmission also needs a frame dupThresh seqs later acked.
 * - RTO: a frame whose timeout has passed since it was sent and since the last ACK that
 *   acknowledged anything new goes again (RFC 6298 5.3 restarts the timer on progress, so a
 *   timeout means "no progress": tail losses, lost ACK streams, a dead peer). Each timeout in a
 *   row doubles the RTO (capped); progress resets it. A frame still unacknowledged when due
 *   after maxTransmissions transmissions means the peer is dead.
 */
export class ReliableSender {
  /** frames sent again (timeout or loss detection) since the last reset */
  retransmissions = 0;
  readonly rtt: RtoEstimator;

  private readonly mask: number;
  private readonly slotA: Int32Array;
  private readonly slotB: Int32Array;
  /** time of the latest transmission */
  private readonly slotSent: Float64Array;
  private readonly slotTries: Uint16Array;
  private readonly slotAcked: Uint8Array;

  // Frames waiting for the window, FIFO.
  private qA: Int32Array;
  private qB: Int32Array;
  private qHead = 0;
  private qTail = 0;

  /** current window (slow start from initialWindow up to window) */
  private cwnd = 0;
  /** oldest unacked seq */
  private base = 0;
  /** next seq to assign */
  private next = 0;
  /** highest seq known received */
  private highAcked = -1;
  /** latest send time of a transmission known delivered (RACK) */
  private rackXmit = -Infinity;
  /** when an ACK last acknowledged something new */
  private lastProgress = -Infinity;
  /** unacked frames transmitted more than once (0 lets scans stop early) */
  private rexmitOut = 0;
  /** timeouts in a row without progress: the RTO is doubled this many times (RFC 6298 5.5) */
  private backoffs = 0;

  private timer: Timer | null = null;
  private timerAt = Infinity;
  /** the timer was deferred once past a stall of the event loop */
  private deferred = false;
  private active = false;

  constructor(
    private readonly p: ReliabilityPolicy,
    private readonly clock: Clock,
    private readonly schedule: Schedule,
    private readonly hooks: SenderHooks,
    queueCapacity = 64,
  ) {
    const w = p.window;
    if (!(w > 0 && (w & (w - 1)) === 0)) throw new RangeError(`window must be a power of two, got ${w}`);
    this.mask = w - 1;
    this.slotA = new Int32Array(w);
    this.slotB = new Int32Array(w);
    this.slotSent = new Float64Array(w);
    this.slotTries = new Uint16Array(w);
    this.slotAcked = new Uint8Array(w);
    this.qA = new Int32Array(Math.max(1, queueCapacity));
    this.qB = new Int32Array(Math.max(1, queueCapacity));
    this.rtt = new RtoEstimator(p);
  }

  /**
   * Starts a new stream at seq 0 in slow start, forgetting whatever the last one left, the RTT
   * estimate included: the last stream's samples measured its drained tail, while a new one
   * starts with every sender bursting at once, and an RTO from the tail would fire spuriously.
   */
  reset(): void {
    this.stop();
    this.rtt.reset();
    this.cwnd = Math.min(this.p.initialWindow, this.p.window);
    this.base = 0;
    this.next = 0;
    this.highAcked = -1;
    this.rackXmit = -Infinity;
    this.lastProgress = -Infinity;
    this.rexmitOut = 0;
    this.backoffs = 0;
    this.qHead = 0;
    this.qTail = 0;
    this.retransmissions = 0;
    this.active = true;
  }

  /** No more sending, no timer left. */
  stop(): void {
    this.active = false;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** frames sent and not yet acknowledged */
  get inFlight(): number {
    return this.next - this.base;
  }

  /** frames waiting for room in the window */
  get queued(): number {
    return this.qTail - this.qHead;
  }

  /** Queues frame (a, b); it goes out as soon as the window has room (maybe right now). */
  enqueue(a: number, b: number): void {
    if (this.qTail === this.qA.length) this.growQueue();
    this.qA[this.qTail] = a;
    this.qB[this.qTail] = b;
    this.qTail++;
    this.pump();
  }

  /**
   * An ACK: every seq below `cum` and `sel` itself were received; `echoTs` is the send time
   * of the transmission that triggered it (an RTT sample, valid for retransmissions too).
   */
  onAck(sel: number, cum: number, echoTs: number): void {
    if (!this.active) return;
    const now = this.clock.now();
    if (echoTs >= 0 && echoTs <= now) {
      this.rtt.sample(now - echoTs);
      if (echoTs > this.rackXmit) this.rackXmit = echoTs;
    }
    const mask = this.mask;
    const acked = this.slotAcked;
    const tries = this.slotTries;
    /** frames this ACK acknowledges for the first time */
    let newly = 0;
    if (cum > this.next) cum = this.next;
    if (cum > this.base) {
      for (let s = this.base; s < cum; s++) {
        const i = s & mask;
        if (acked[i] === 0) {
          newly++;
          if (tries[i]! > 1) this.rexmitOut--;
        }
      }
      this.base = cum;
      if (cum - 1 > this.highAcked) this.highAcked = cum - 1;
    }
    if (sel >= this.base && sel < this.next) {
      const i = sel & mask;
      if (acked[i] === 0) {
        acked[i] = 1;
        newly++;
        if (tries[i]! > 1) this.rexmitOut--;
        if (sel > this.highAcked) this.highAcked = sel;
      }
    }
    while (this.base < this.next && acked[this.base & mask] === 1) this.base++;
    if (newly > 0) {
      // progress: the peer is alive, the RTO is the estimate again (no back-off)
      this.lastProgress = now;
      this.backoffs = 0;
      if (this.cwnd < this.p.window) this.cwnd = Math.min(this.p.window, this.cwnd + newly);
    }
    this.detectLosses(now);
    this.pump();
  }

  /** RACK: retransmits unacked frames sent a reordering window before a delivered one. */
  private detectLosses(now: number): void {
    const limit = this.rackXmit - this.rtt.reorderWindow();
    const mask = this.mask;
    const max = this.p.maxTransmissions;
    for (let s = this.base; s < this.next; s++) {
      const i = s & mask;
      if (this.slotAcked[i] === 1) continue;
      const tries = this.slotTries[i]!;
      const lost = this.slotSent[i]! < limit && (tries > 1 || s + this.p.dupThresh <= this.highAcked);
      if (lost) {
        // the last transmissions are the timer's to count (it declares the peer dead)
        if (tries < max) {
          this.retransmit(s, i, now);
          if (!this.active) return;
          this.armFor(now + this.rtt.backoff(this.backoffs));
        }
      } else if (tries === 1 && this.rexmitOut === 0) {
        // first transmissions are in seq order with non-decreasing send times: none further is lost
        break;
      }
    }
  }

  private pump(): void {
    if (!this.active) return;
    const w = this.cwnd;
    const mask = this.mask;
    let now = -1;
    while (this.qHead < this.qTail && this.next - this.base < w) {
      const a = this.qA[this.qHead]!;
      const b = this.qB[this.qHead]!;
      this.qHead++;
      const seq = this.next++;
      const i = seq & mask;
      this.slotA[i] = a;
      this.slotB[i] = b;
      this.slotTries[i] = 1;
      this.slotAcked[i] = 0;
      if (now < 0) now = this.clock.now();
      this.slotSent[i] = now;
      this.hooks.transmit(seq, a, b, false);
      if (!this.active) return;
    }
    if (this.qHead === this.qTail) this.qHead = this.qTail = 0;
    if (now >= 0) this.armFor(now + this.rtt.backoff(this.backoffs));
  }

  private retransmit(seq: number, i: number, now: number): void {
    const t = this.slotTries[i]!;
    if (t === 1) this.rexmitOut++;
    this.slotTries[i] = t + 1;
    this.slotSent[i] = now;
    this.retransmissions++;
    this.hooks.transmit(seq, this.slotA[i]!, this.slotB[i]!, true);
  }

  private armFor(t: number): void {
    if (this.timer !== null) {
      if (this.timerAt <= t) return;
      this.timer.cancel();
    }
    this.timerAt = t;
    const d = t - this.clock.now();
    this.timer = this.schedule(d > 0 ? d : 0, this.onTimer);
  }

  /**
   * Retransmits every unacked frame whose timeout (the RTO, doubled per timeout in a row
   * without progress) has passed since it was sent and since the last progress, and re-arms
   * for the earliest remaining deadline. The timer is lazy: progress moves deadlines later
   * without touching it; it then fires early, finds nothing due, and re-arms. Deadlines of
   * first transmissions never decrease along the seq order, so when no retransmitted frame is
   * outstanding the scan stops at the first one not due. A peer that never answers sees the
   * RTO double every round, so maxTransmissions rounds take a bounded time (see deadBoundNs).
   */
  private readonly onTimer = (): void => {
    const at = this.timerAt;
    this.timer = null;
    this.timerAt = Infinity;
    if (!this.active) return;
    const now = this.clock.now();
    if (now - at > this.p.stallNs && !this.deferred) {
      // Late by a stall of the event loop: the ACKs that came meanwhile wait behind this
      // timer. Look again on the next turn, after I/O (RealClock runs delay 0 as setImmediate).
      this.deferred = true;
      this.timerAt = now;
      this.timer = this.schedule(0, this.onTimer);
      return;
    }
    this.deferred = false;
    const mask = this.mask;
    const max = this.p.maxTransmissions;
    const progress = this.lastProgress;
    const timeout = this.rtt.backoff(this.backoffs);
    let fired = false;
    let earliest = Infinity;
    for (let s = this.base; s < this.next; s++) {
      const i = s & mask;
      if (this.slotAcked[i] === 1) continue;
      const tries = this.slotTries[i]!;
      const sent = this.slotSent[i]!;
      const deadline = (sent > progress ? sent : progress) + timeout;
      if (deadline <= now + SLACK_NS) {
        if (tries >= max) {
          this.stop();
          this.hooks.dead(s, this.slotA[i]!, this.slotB[i]!, tries);
          return;
        }
        this.retransmit(s, i, now);
        if (!this.active) return;
        fired = true;
      } else {
        if (deadline < earliest) earliest = deadline;
        if (tries === 1 && this.rexmitOut === 0) break;
      }
    }
    if (fired) {
      if (this.backoffs < 30) this.backoffs++;
      const next = now + this.rtt.backoff(this.backoffs);
      if (next < earliest) earliest = next;
    }
    if (earliest < Infinity) this.armFor(earliest);
  };

  private growQueue(): void {
    const live = this.qTail - this.qHead;
    if (this.qHead > 0 && live < this.qA.length / 2) {
      this.qA.copyWithin(0, this.qHead, this.qTail);
      this.qB.copyWithin(0, this.qHead, this.qTail);
    } else {
      const a = new Int32Array(this.qA.length * 2);
      const b = new Int32Array(this.qA.length * 2);
      a.set(this.qA.subarray(this.qHead, this.qTail));
      b.set(this.qB.subarray(this.qHead, this.qTail));
      this.qA = a;
      this.qB = b;
    }
    this.qHead = 0;
    this.qTail = live;
  }
}

export interface ReceiverHooks {
  /** sends an ACK: `sel` received, every seq below `cum` received, echoing `echoTs` */
  ack(sel: number, cum: number, echoTs: number): void;
}

/** What ReliableReceiver.accept says of a frame. */
export const ACCEPT_NEW = 1;
export const ACCEPT_DUPLICATE = 0;
export const ACCEPT_OUT_OF_RANGE = -1;

/**
 * The receiving end: de-duplicates by seq over a stream of known length, tracks the cumulative
 * ACK point, and acks every `ackEvery` in-order frames or after `ackDelayNs`, at once for
 * anything out of order, a duplicate, a filled gap or the last frame (so the sender's fast
 * retransmit and timers see the truth quickly).
 */
export class ReliableReceiver {
  private got: Uint8Array = new Uint8Array(0);
  private capacity = 0;
  /** every seq below this was received */
  private cum = 0;
  private pending = 0;
  private pendSeq = 0;
  private pendTs = 0;
  private pendSince = 0;
  private timer: Timer | null = null;
  private active = false;

  constructor(
    private readonly p: ReliabilityPolicy,
    private readonly clock: Clock,
    private readonly schedule: Schedule,
    private readonly hooks: ReceiverHooks,
  ) {}

  /** A new stream of `capacity` frames (seqs 0 .. capacity-1). */
  reset(capacity: number): void {
    this.stop();
    if (this.got.length < capacity) this.got = new Uint8Array(capacity);
    else this.got.fill(0, 0, capacity);
    this.capacity = capacity;
    this.cum = 0;
    this.pending = 0;
    this.active = true;
  }

  stop(): void {
    this.active = false;
    this.timer?.cancel();
    this.timer = null;
    this.pending = 0;
  }

  /** seqs received so far in order (the cumulative ACK point) */
  get cumulative(): number {
    return this.cum;
  }

  /** ACCEPT_NEW (process it), ACCEPT_DUPLICATE (acked again, ignore it) or ACCEPT_OUT_OF_RANGE. */
  accept(seq: number, ts: number): number {
    if (!this.active || seq >= this.capacity) return ACCEPT_OUT_OF_RANGE;
    const got = this.got;
    if (got[seq] === 1) {
      this.ackNow(seq, ts);
      return ACCEPT_DUPLICATE;
    }
    got[seq] = 1;
    const inOrder = seq === this.cum;
    if (inOrder) {
      let c = seq + 1;
      while (c < this.capacity && got[c] === 1) c++;
      this.cum = c;
    }
    if (!inOrder || this.cum !== seq + 1 || this.cum === this.capacity) {
      this.ackNow(seq, ts);
      return ACCEPT_NEW;
    }
    if (this.pending++ === 0) {
      // the earliest un-acked frame's timestamp is echoed, so RTT samples include the delay
      this.pendSeq = seq;
      this.pendTs = ts;
      this.pendSince = this.clock.now();
    } else {
      this.pendSeq = seq;
    }
    if (this.pending >= this.p.ackEvery) this.ackNow(this.pendSeq, this.pendTs);
    else if (this.timer === null) this.arm(this.pendSince + this.p.ackDelayNs);
    return ACCEPT_NEW;
  }

  private ackNow(seq: number, ts: number): void {
    this.pending = 0;
    this.hooks.ack(seq, this.cum, ts);
  }

  private arm(at: number): void {
    const d = at - this.clock.now();
    this.timer = this.schedule(d > 0 ? d : 0, this.onTimer);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (!this.active || this.pending === 0) return;
    const due = this.pendSince + this.p.ackDelayNs;
    if (this.clock.now() + SLACK_NS >= due) this.ackNow(this.pendSeq, this.pendTs);
    else this.arm(due);
  };
}
