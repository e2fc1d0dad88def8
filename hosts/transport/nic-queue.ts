import type { Timer } from '../../src/net/clock.js';
import type { HostAgent } from './host-agent.js';

/** A sender's frames waiting for the NIC, as the fair queue sees them. */
export interface TxStream {
  txq: Uint8Array[];
  txHead: number;
  /** in the round robin of streams with frames waiting */
  inRing: boolean;
}

export interface NicQueueOptions<S> {
  /** the host link's rate in bytes per ns; 0 = unshaped (never wait) */
  readonly bytesPerNs: number;
  /** hand frames to the port only while its egress queue holds fewer bytes than this */
  readonly limitBytes: number;
  /**
   * how far past the excess to wake: the port's queue drains in whole frames, so waking at the
   * excess alone would spin in ns steps while the head frame is still serializing; a frame's
   * worth later, at least a frame is still queued, so the NIC never idles for the wait
   */
  readonly wakeSlackBytes: number;
  /**
   * while a wake-up is pending, hold new frames until it fires (true) or look at the port's
   * queue again on every enqueue (false)
   */
  readonly holdWhileWaking: boolean;
  readonly send: (frame: Uint8Array, stream: S) => void;
}

const EMPTY = new Uint8Array(0);

/**
 * A host's fair queue in front of a short NIC queue (byte queue limits / TCP small queues, as
 * a Linux host keeps it): streams take turns, one frame each, while the port's egress queue
 * has room, so one stream's burst cannot starve the others behind it.
 */
export class FairNicQueue<S extends TxStream> {
  private ring: S[] = [];
  private ringHead = 0;
  private timer: Timer | null = null;

  constructor(private readonly agent: HostAgent, private readonly o: NicQueueOptions<S>) {}

  /** Queues a stream's frame and sends what the NIC can take now. */
  enqueue(s: S, f: Uint8Array): void {
    s.txq.push(f);
    if (!s.inRing) {
      s.inRing = true;
      this.ring.push(s);
    }
    this.pump();
  }

  /** Forgets a stream's waiting frames (its receiver no longer needs them). */
  clear(s: S): void {
    s.txq.length = 0;
    s.txHead = 0;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.pump();
  };

  private pump(): void {
    const o = this.o;
    if (o.holdWhileWaking && this.timer !== null) return;
    const port = this.agent.host.port;
    while (this.ringHead < this.ring.length) {
      if (o.bytesPerNs > 0) {
        const queued = port.queuedBytes();
        if (queued >= o.limitBytes) {
          if (this.timer === null) this.timer = this.agent.after((queued - o.limitBytes + o.wakeSlackBytes) / o.bytesPerNs, this.onTimer);
          return;
        }
      }
      const s = this.ring[this.ringHead++]!;
      if (s.txHead < s.txq.length) {
        const f = s.txq[s.txHead]!;
        s.txq[s.txHead++] = EMPTY;
        o.send(f, s);
      }
      if (s.txHead < s.txq.length) this.ring.push(s);
      else {
        s.inRing = false;
        this.clear(s);
      }
      // keep the ring's dead prefix from growing without bound
      if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
        this.ring.splice(0, this.ringHead);
        this.ringHead = 0;
      }
    }
    this.ring.length = 0;
    this.ringHead = 0;
  }
}
