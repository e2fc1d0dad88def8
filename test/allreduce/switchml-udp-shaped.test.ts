/**
 * Regression: over real UDP with any link shaping, every SwitchML result reached only the last
 * replica of the switch's multicast group, so all other workers moved on only by retransmission
 * timeouts (~50x slower than ring, about one retransmission per packet).
 *
 * Cause: frames received from a socket are Node Buffers, whose slice() is a view, not a copy.
 * The pipeline's multicast (and clone) copies made with buf.slice() therefore shared the
 * original's bytes; each replica's egress rewrote the destination in place, and a ShapedPort,
 * which holds frames until their delivery time, sent them all with the last replica's header.
 * (Unshaped ports send synchronously, before the next replica's egress, which hid it; the sim
 * transport hands out plain Uint8Arrays, whose slice() copies.)
 */
import { describe, expect, it } from 'vitest';
import type { AllreduceResult } from '../../src/report/types.js';
import { runScenario } from '../../src/run/runner.js';
import { validateScenario } from '../../src/scenario/load.js';

describe('switchml over udp with shaped links', () => {
  it('delivers multicast results to every worker (no retransmission per packet)', async () => {
    const s = validateScenario(
      {
        name: 'switchml-udp-shaped',
        mode: 'udp',
        seed: 1,
        topology: { kind: 'star', hosts: 3 },
        links: { delayUs: 200 },
        workloads: [{ kind: 'allreduce', algorithms: ['switchml'], bytes: 65536, dtype: 'int32', iterations: 1 }],
      },
      '<switchml-udp-shaped.test>',
    );
    const r = await runScenario(s);
    const run = r.runs[0] as AllreduceResult;
    expect(run, JSON.stringify(run)).toMatchObject({ correct: true, workers: 3, maxAbsError: 0 });
    // 256 packets per worker: with the bug, two workers of three retransmitted every one of them
    const packets = 3 * Math.ceil(65536 / 4 / 64);
    expect(run.retransmissions, JSON.stringify(run)).toBeLessThan(packets / 8);
  }, 30_000);
});

describe('udp transport: received frames', () => {
  it("are plain byte arrays whose slice() is a copy (a Buffer's is a view)", async () => {
    const { UdpTransport } = await import('../../src/net/udp-transport.js');
    const t = new UdpTransport();
    try {
      const [a, b] = await t.link('a', 'b');
      const got = new Promise<Uint8Array>((resolve) => b.onReceive(resolve));
      a.send(new Uint8Array([1, 2, 3, 4]));
      const f = await got;
      expect(Buffer.isBuffer(f)).toBe(false);
      const copy = f.slice();
      copy[0] = 99;
      expect(f[0]).toBe(1);
    } finally {
      await t.close();
    }
  });
});
