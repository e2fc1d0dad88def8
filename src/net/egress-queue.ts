import { ECN_CE, OFF_ECN } from '../wire/common-header.js';
import type { Clock } from './clock.js';
import type { DirectionStats } from './port.js';
import { emptyDirectionStats } from './port.js';
import { Ring } from './ring.js';

/** How the egress queue in front of one port behaves. */
export interface QueueConfig {
  /** the port's line rate in Gbit/s, which drains the queue; 0 = unshaped (nothing ever queues) */
  readonly rateGbps: number;
  /** capacity; a frame that does not fit is tail-dropped */
  readonly queueBytes: number;
  /** mark ECT frames CE when enqueued above this many queued bytes; 0 = off */
  readonly ecnThresholdBytes: number;
}

/** The counters a queue keeps: the transmit side of a link direction's report row. */
export type QueueStats = Pick<DirectionStats, 'bytes' | 'packets' | 'drops' | 'ecnMarked' | 'maxQueueBytes'>;

/**
 * One egress FIFO and the transmitter that drains it at line rate: the mechanism (as BMv2's
 * bm_sim/queueing.h is), owned by whoever sends on the port: the switch target's traffic
 * manager (src/switch/traffic-manager.ts) for each of its ports, a host's NIC for its one.
 *
 * Per frame: admitted or tail-dropped against `queueBytes` (stats.drops); above
 * `ecnThresholdBytes` an ECT(0)/ECT(1) frame is marked CE (stats.ecnMarked), step marking on
 * the instantaneous depth as RED/DCTCP do; then it leaves back to back behind the frames
 * ahead of it, bytes*8/rateGbps ns each, and counts as transmitted (stats.bytes, .packets)
 * once its last bit has left. With rate 0 a frame is transmitted the moment it is admitted.
 *
 * The queue is accounting only: departure times are computed at enqueue (FIFO, back to back),
 * so the depth at any instant is exact without an event per departure; the link behind the
 * queue (src/net/link-shaper.ts) carries each frame from its departure time on.
 *
 * One traffic class today. Priority classes would be several of these behind a scheduler
 * that picks the next departure, a shared buffer an admission check across them, and a pause
 * frame a flag that stops the scheduler: all on the port's queue side, none on the wire.
 */
export class EgressQueue {
  private readonly nsPerByte: number;
  private readonly limit: number;
  private readonly ecnThreshold: number;
  private readonly departAt = new Ring<number>();
  private readonly sizes = new Ring<number>();
  private queued = 0;
  private lastDepart = -Infinity;

  /** `stats` may be shared with the link behind (one report row per direction). */
  constructor(
    readonly config: QueueConfig,
    private readonly clock: Clock,
    private readonly s: DirectionStats = emptyDirectionStats(),
  ) {
    this.nsPerByte = config.rateGbps > 0 ? 8 / config.rateGbps : 0;
    this.limit = config.queueBytes;
    this.ecnThreshold = config.ecnThresholdBytes;
  }

  /** Whether frames ever wait here (a line rate is set). */
  get shaped(): boolean {
    return this.nsPerByte > 0;
  }

  /** Counters settled to now; live and owned by the queue (copy them for a snapshot). */
  get stats(): DirectionStats {
    if (this.nsPerByte > 0) this.advance(this.clock.now());
    return this.s;
  }

  /** Bytes admitted and not yet transmitted (including the frame being serialized). */
  depth(): number {
    if (this.nsPerByte === 0) return 0;
    this.advance(this.clock.now());
    return this.queued;
  }

  /**
   * Admits a frame at time `now`: returns when its last bit leaves (ns), or -1 when it was
   * tail-dropped. May mark the frame CE.
   */
  admit(frame: Uint8Array, now: number): number {
    const s = this.s;
    const len = frame.length;
    if (this.nsPerByte === 0) {
      s.bytes += len;
      s.packets++;
      return now;
    }
    this.advance(now);
    if (this.queued + len > this.limit) {
      s.drops++;
      return -1;
    }
    if (this.ecnThreshold > 0 && this.queued > this.ecnThreshold && len > OFF_ECN) {
      const e = frame[OFF_ECN];
      if (e === 1 || e === 2) {
        frame[OFF_ECN] = ECN_CE;
        s.ecnMarked++;
      }
    }
    const depart = (this.lastDepart > now ? this.lastDepart : now) + len * this.nsPerByte;
    this.lastDepart = depart;
    this.departAt.push(depart);
    this.sizes.push(len);
    this.queued += len;
    if (this.queued > s.maxQueueBytes) s.maxQueueBytes = this.queued;
    return depart;
  }

  /** A frame refused before the queue (the port is closed): counted as a drop. */
  refuse(): void {
    this.s.drops++;
  }

  /** Settles the queue up to time t (frames fully sent by t are transmitted). */
  advance(t: number): void {
    const s = this.s;
    while (this.departAt.length > 0 && this.departAt.peek()! <= t) {
      this.departAt.shift();
      const b = this.sizes.shift()!;
      this.queued -= b;
      s.bytes += b;
      s.packets++;
    }
  }

  /** Discards what is queued, untransmitted (the port closed). */
  clear(): void {
    this.departAt.clear();
    this.sizes.clear();
    this.queued = 0;
  }
}
