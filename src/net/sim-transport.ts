import type { FrameHandler, Port } from './port.js';
import { SimClock } from './sim-clock.js';
import type { Transport } from './transport.js';

/**
 * One end of an in-memory link. Delivery is one zero-delay event on the SimClock per frame,
 * never a direct call: a direct call would run the receiver inside the sender's send(),
 * which reorders work relative to the real transport (where a send never re-enters the
 * caller) and can recurse without bound through a chain of switches.
 *
 * Zero copy: the very Uint8Array given to send() is what the peer's handler receives;
 * ownership passes with it (see Port).
 */
export class SimPort implements Port {
  /** frames accepted by send() */
  framesSent = 0;
  /** frames handed to this port's receive handler */
  framesReceived = 0;
  /** frames that arrived before a handler was set (dropped) */
  unhandled = 0;
  /** frames sent on or arriving at a closed port (dropped) */
  closedDrops = 0;

  /** @internal set by SimTransport.link */
  peer: SimPort | null = null;
  private handler: FrameHandler | null = null;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly clock: SimClock,
  ) {}

  send(frame: Uint8Array): void {
    const peer = this.peer;
    if (this.closed || peer === null) {
      this.closedDrops++;
      return;
    }
    this.framesSent++;
    // setTimerArg with a function made once per port: the timer record is the only
    // allocation per frame. Same-time events run in insertion order, so this is FIFO.
    this.clock.setTimerArg(0, peer.deliver, frame);
  }

  onReceive(handler: FrameHandler): void {
    this.handler = handler;
  }

  queuedBytes(): number {
    return 0;
  }

  close(): void {
    this.closed = true;
    this.handler = null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private readonly deliver = (frame: Uint8Array): void => {
    if (this.closed) {
      this.closedDrops++;
      return;
    }
    const h = this.handler;
    if (h === null) {
      this.unhandled++;
      return;
    }
    this.framesReceived++;
    h(frame);
  };
}

/**
 * In-memory links on virtual time. Deterministic: given the same sequence of calls, every
 * delivery happens at the same virtual time in the same order. Link latency and rate are
 * not modelled here (delivery is at +0 ns); wrap a port in a ShapedPort for that.
 */
export class SimTransport implements Transport {
  readonly kind = 'sim' as const;
  readonly clock: SimClock;
  private readonly ports: SimPort[] = [];

  constructor(clock?: SimClock) {
    this.clock = clock ?? new SimClock();
  }

  async link(aName: string, bName: string): Promise<[SimPort, SimPort]> {
    return this.linkSync(aName, bName);
  }

  /** link() without the promise: building a large fabric in sim mode need not await. */
  linkSync(aName: string, bName: string): [SimPort, SimPort] {
    const a = new SimPort(aName, this.clock);
    const b = new SimPort(bName, this.clock);
    a.peer = b;
    b.peer = a;
    this.ports.push(a, b);
    return [a, b];
  }

  async close(): Promise<void> {
    for (const p of this.ports) p.close();
  }
}
