import { NS_PER_S } from '../../src/net/clock.js';
import { SimTransport } from '../../src/net/sim-transport.js';
import { UdpTransport } from '../../src/net/udp-transport.js';
import { describeTransportConformance } from './transport-conformance.js';

// Sim: run virtual time until the condition holds. A bound of an hour of virtual time turns
// a runaway timer loop into a failure instead of a hang; 'idle' means nothing left to run.
describeTransportConformance(
  'sim',
  async () => new SimTransport(),
  async (t, until) => {
    const r = t.clock.runUntil(until, 3600 * NS_PER_S);
    if (r !== 'done') throw new Error(`sim transport: condition not reached (${r}) at ${t.clock.now()} ns`);
  },
);

// UDP: yield to the event loop (sockets and timers) until the condition holds, bounded by
// wall time. No timing is asserted, only that things happen eventually.
describeTransportConformance(
  'udp',
  async () => new UdpTransport('127.0.0.1'),
  async (_t, until, timeoutMs) => {
    const end = Date.now() + timeoutMs;
    while (!until()) {
      if (Date.now() > end) throw new Error(`udp transport: condition not reached within ${timeoutMs} ms`);
      await new Promise<void>((r) => setImmediate(r));
    }
  },
);
