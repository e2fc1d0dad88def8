import type { Clock } from '../net/clock.js';
import type { QueueConfig } from '../net/egress-queue.js';
import { LinkPort } from '../net/link-shaper.js';
import type { DirectionStats, Port } from '../net/port.js';
import { QueuedPort } from '../net/queued-port.js';

/**
 * The switch target's traffic manager (the part of BMv2's simple_switch between ingress and
 * egress and after it): it owns the egress queue of every port and decides a frame's fate
 * there, tail drop or CE mark or departure at line rate, before the frame enters the link.
 * Its services to the program are the queue depth of a port (the pipeline's
 * `pkt.egressQueueBytes` and `env.queueBytes`) and ECN marking on enqueue.
 *
 * A port with a queue config is a link's wire (LinkPort) and gets its queue here; a port
 * without one (a bare transport port, as tests and the fuzzer wire switches) is sent on
 * directly and has depth 0.
 *
 * Where later traffic-manager features go: priority classes and a scheduler inside each
 * port's queue (src/net/egress-queue.ts), a buffer shared by the ports here (admission across
 * `out`), pause frames as a per-port flag that holds a queue's departures.
 */
export class TrafficManager {
  /** per port: the queue in front of the wire, or the bare port */
  private readonly out: Port[];
  private readonly queued: (QueuedPort | null)[];

  constructor(ports: readonly Port[], clock: Clock, queues?: readonly QueueConfig[]) {
    if (queues !== undefined && queues.length !== ports.length) {
      throw new Error(`traffic manager: ${queues.length} queue configs for ${ports.length} ports`);
    }
    this.queued = ports.map((p, i) => {
      const q = queues?.[i];
      if (q === undefined) return null;
      if (!(p instanceof LinkPort)) throw new Error(`traffic manager: port ${i} (${p.name}) has a queue config but is not a link's wire`);
      return QueuedPort.over(p, q, clock);
    });
    this.out = ports.map((p, i) => this.queued[i] ?? p);
  }

  /** Hands a frame the pipeline emitted on a port to that port's queue. */
  enqueue(port: number, frame: Uint8Array): void {
    this.out[port]!.send(frame);
  }

  /** Bytes waiting in a port's egress queue now. */
  depth(port: number): number {
    return this.out[port]!.queuedBytes();
  }

  /** A port's queue in front of its wire; null for a bare port. */
  queuedPort(port: number): QueuedPort | null {
    return this.queued[port] ?? null;
  }

  /** A port's transmit counters (its link direction's row), settled to now; null: no queue. */
  stats(port: number): DirectionStats | null {
    return this.queued[port]?.stats ?? null;
  }

  /** Frames refused at the egress queues (tail drops, and sends on a cut link). */
  drops(): number {
    let n = 0;
    for (const q of this.queued) if (q !== null) n += q.stats.drops;
    return n;
  }
}
