import type { Clock } from './clock.js';
import type { Port } from './port.js';

/**
 * What a fabric builder needs from a way of carrying frames: point-to-point links and the
 * clock that goes with them. The two implementations (sim: in-memory on virtual time;
 * udp: one datagram socket per link end on real time) pass the same conformance suite
 * (test/net/transport-conformance.ts), so code above src/net never asks which one it has.
 */
export interface Transport {
  readonly kind: 'sim' | 'udp';
  /** The clock frames travel on; hand the same one to everything that schedules. */
  readonly clock: Clock;
  /**
   * A bidirectional link: what is sent on the first port arrives at the second and vice
   * versa, in send order. Names are labels for counters and errors, not addresses.
   */
  link(aName: string, bName: string): Promise<[Port, Port]>;
  /** Closes every port this transport made. Idempotent. */
  close(): Promise<void>;
}
