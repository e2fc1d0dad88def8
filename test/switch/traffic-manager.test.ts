/**
 * The switch target's traffic manager: each port's egress queue (tail drop, ECN marking, depth
 * the program sees) in front of the port's link, on virtual time.
 */
import { describe, expect, it } from 'vitest';
import { LinkPort, linkConfig, queueConfigOf, type LinkConfig } from '../../src/net/link-shaper.js';
import { createRng } from '../../src/net/rng.js';
import { SimTransport } from '../../src/net/sim-transport.js';
import { probeProgram } from './helpers.js';
import { Switch } from '../../src/switch/switch.js';
import { ECN_CE, ECN_ECT0, HEADER_BYTES, makeFrame, OFF_ECN } from '../../src/wire/common-header.js';

/** A 2-port switch: port 0 takes frames in, port 1 sends them over a link with `cfg`. */
function rig(cfg: Partial<LinkConfig>) {
  const t = new SimTransport();
  const [in0, feed] = t.linkSync('sw:0', 'src');
  const [out1, far] = t.linkSync('sw:1', 'dst');
  const c = linkConfig(cfg);
  const wires = [new LinkPort(in0, t.clock, c, createRng(1)), new LinkPort(out1, t.clock, c, createRng(2))];
  const seen: number[] = [];
  const sw = new Switch({ name: 'sw', program: probeProgram(seen), ports: wires, queues: wires.map(() => queueConfigOf(c)), clock: t.clock, rng: createRng(3), seed: 3 });
  const arrived: Uint8Array[] = [];
  far.onReceive((f) => arrived.push(f));
  /** `n` frames of `bytes` each, all at this instant, to port 1 */
  const burst = (n: number, bytes: number, ecn = 0): void => {
    for (let i = 0; i < n; i++) sw.receive(0, makeFrame({ protocol: 17, src: 1, dst: 2, seq: i, dstPort: 1, ecn }, bytes - HEADER_BYTES));
  };
  void feed;
  return { t, sw, wires, seen, arrived, burst };
}

describe('traffic manager', () => {
  it('tail-drops what does not fit a port\'s queue and counts it as the switch\'s queue drops', () => {
    const r = rig({ rateGbps: 1, queueBytes: 2500 });
    r.burst(5, 1000);
    // 1000 and 2000 bytes fit in 2500; the next three would overflow it
    expect(r.sw.drops().queue).toBe(3);
    expect(r.sw.trafficManager.stats(1)!.drops).toBe(3);
    r.t.clock.runAll();
    expect(r.arrived.length).toBe(2);
    expect(r.sw.trafficManager.stats(1)).toMatchObject({ packets: 2, bytes: 2000, maxQueueBytes: 2000 });
    // the row is the wire's too: queue and link count into one object
    expect(r.sw.trafficManager.stats(1)).toBe(r.wires[1]!.stats);
  });

  it('shows the program the queue depth at egress and marks ECT frames CE above the threshold', () => {
    const r = rig({ rateGbps: 1, queueBytes: 1 << 20, ecnThresholdBytes: 1500 });
    r.burst(4, 1000, ECN_ECT0);
    // each frame's egress runs before it is queued: it sees the frames ahead of it
    expect(r.seen).toEqual([0, 1000, 2000, 3000]);
    expect(r.sw.trafficManager.depth(1)).toBe(4000);
    r.t.clock.runAll();
    expect(r.arrived.map((f) => f[OFF_ECN])).toEqual([ECN_ECT0, ECN_ECT0, ECN_CE, ECN_CE]);
    expect(r.sw.trafficManager.stats(1)!.ecnMarked).toBe(2);
    expect(r.sw.trafficManager.depth(1)).toBe(0);
  });

  it('drops, and counts, what is sent on a cut link', () => {
    const r = rig({ rateGbps: 1 });
    r.wires[1]!.close();
    r.burst(2, 100);
    expect(r.sw.drops().queue).toBe(2);
    expect(r.arrived.length).toBe(0);
  });

  it('wants a link\'s wire behind every queue it is given', () => {
    const t = new SimTransport();
    const [a] = t.linkSync('sw:0', 'x');
    const q = queueConfigOf(linkConfig({}));
    expect(() => new Switch({ name: 'sw', program: probeProgram([]), ports: [a], queues: [q], clock: t.clock, rng: createRng(1), seed: 1 })).toThrow(/port 0 .* not a link's wire/);
    expect(() => new Switch({ name: 'sw', program: probeProgram([]), ports: [a], queues: [], clock: t.clock, rng: createRng(1), seed: 1 })).toThrow(/0 queue configs for 1 ports/);
  });
});
