import type { Clock } from './clock.js';
import { EgressQueue, type QueueConfig } from './egress-queue.js';
import { LinkPort, linkConfig, queueConfigOf, type LinkConfig } from './link-shaper.js';
import type { DirectionStats, FrameHandler, Port } from './port.js';
import { emptyDirectionStats } from './port.js';
import type { Rng } from './rng.js';

/**
 * A sending end: an egress queue in front of a link's wire. Frames are admitted to the queue
 * (or tail-dropped), leave it at line rate and enter the wire at their departure time. The
 * switch target's traffic manager keeps one per port; a host's NIC is one.
 */
export class QueuedPort implements Port {
  readonly name: string;

  constructor(
    readonly queue: EgressQueue,
    readonly wire: LinkPort,
    private readonly clock: Clock,
  ) {
    this.name = wire.name;
    if (queue.shaped) wire.settle = (t) => queue.advance(t);
  }

  /** An egress queue of `config` in front of `wire`, counting into the wire's stats. */
  static over(wire: LinkPort, config: QueueConfig, clock: Clock): QueuedPort {
    return new QueuedPort(new EgressQueue(config, clock, wire.stats), wire, clock);
  }

  /**
   * The queue's settings, line rate included (hosts/flows.ts and hosts/moe-exchange.ts read
   * their NIC's rate from here).
   */
  get config(): Readonly<QueueConfig> {
    return this.queue.config;
  }

  /** The direction's counters, queue and wire settled to now (they count into one object). */
  get stats(): DirectionStats {
    return this.queue.stats;
  }

  queuedBytes(): number {
    return this.queue.depth();
  }

  onReceive(handler: FrameHandler): void {
    this.wire.onReceive(handler);
  }

  send(frame: Uint8Array): void {
    const wire = this.wire;
    if (wire.closed) {
      this.queue.refuse();
      return;
    }
    const now = this.clock.now();
    const depart = this.queue.admit(frame, now);
    if (depart >= 0) wire.carry(frame, depart, now);
  }

  /** Frames accepted but not yet handed to the inner port (propagating or held). */
  inFlight(): number {
    return this.wire.inFlight();
  }

  /** Closes the wire; frames still queued, propagating or held are discarded. */
  close(): void {
    if (this.wire.closed) return;
    this.queue.clear();
    this.wire.close();
  }
}

/**
 * One direction of an emulated link built from its config in one step: the egress queue and
 * the wire, counting into one DirectionStats. Only the send direction is shaped; shape both
 * directions of a link by wrapping both ends.
 */
export class ShapedPort extends QueuedPort {
  /** the whole link config, wire and queue */
  readonly linkConfig: Readonly<LinkConfig>;

  constructor(inner: Port, clock: Clock, cfg: Partial<LinkConfig>, rng: Rng) {
    const c = linkConfig(cfg);
    const stats = emptyDirectionStats();
    super(new EgressQueue(queueConfigOf(c), clock, stats), new LinkPort(inner, clock, c, rng, stats), clock);
    this.linkConfig = Object.freeze(c);
  }

  /** frames handed to the inner port, duplicates included (what the far end should receive) */
  get forwarded(): number {
    return this.wire.forwarded;
  }

  /** The inner port (e.g. to read transport-level counters). */
  get innerPort(): Port {
    return this.wire.innerPort;
  }
}
