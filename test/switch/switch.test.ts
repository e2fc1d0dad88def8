import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import l3 from '../../pipelines/l3.js';
import type { FrameHandler, Port } from '../../src/net/port.js';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { SimTransport } from '../../src/net/sim-transport.js';
import type { Update } from '../../src/pipeline/control-plane.js';
import type { ProgramFactory } from '../../src/pipeline/program.js';
import { probeProgram } from './helpers.js';
import { Switch } from '../../src/switch/switch.js';
import { HEADER_BYTES, makeFrame, OFF_TTL } from '../../src/wire/common-header.js';

/** A port that records what the switch sends and lets the test hand it frames. */
class FakePort implements Port {
  readonly sent: Uint8Array[] = [];
  private handler: FrameHandler | null = null;
  constructor(
    readonly name: string,
    public queued = 0,
  ) {}
  send(frame: Uint8Array): void {
    this.sent.push(frame);
  }
  onReceive(handler: FrameHandler): void {
    this.handler = handler;
  }
  queuedBytes(): number {
    return this.queued;
  }
  close(): void {}
  /** a frame arriving from the wire */
  arrive(frame: Uint8Array): void {
    if (!this.handler) throw new Error(`${this.name}: no handler`);
    this.handler(frame);
  }
}

const N_PORTS = 4;
const ADDR = (x: number): number => (0x0a000000 | x) >>> 0; // 10.0.x.y

function makeSwitch(program: ProgramFactory = l3, opts: { queued?: number[] } = {}) {
  const ports = Array.from({ length: N_PORTS }, (_, i) => new FakePort(`sw0-p${i}`, opts.queued?.[i] ?? 0));
  const sw = new Switch({ name: 'sw0', program, ports, clock: new SimClock(), rng: createRng(5), seed: 5 });
  return { sw, ports };
}

const lpm = (prefix: number, len: number, port: number): Update => ({
  type: 'INSERT',
  entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: prefix, prefixLen: len } }, action: { name: 'forward', params: { port } } },
});

/** l3 routes: 10.0.0.1/32 -> 1, 10.0.0.2/32 -> 2, 10.0.1.0/24 -> 3; anything else has no route. */
function installRoutes(sw: Switch): void {
  sw.controlPlane.write([lpm(ADDR(1), 32, 1), lpm(ADDR(2), 32, 2), lpm(ADDR(0x100), 24, 3)]);
}
function routeOf(dst: number): number | null {
  if (dst === ADDR(1)) return 1;
  if (dst === ADDR(2)) return 2;
  if ((dst & 0xffffff00) >>> 0 === ADDR(0x100)) return 3;
  return null;
}

type Kind = 'routed' | 'noroute' | 'ttl' | 'short' | 'version' | 'truncated' | 'length';
interface Case {
  kind: Kind;
  inPort: number;
  frame: Uint8Array;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    kind: fc.constantFrom<Kind>('routed', 'routed', 'noroute', 'ttl', 'short', 'version', 'truncated', 'length'),
    inPort: fc.integer({ min: 0, max: N_PORTS - 1 }),
    payload: fc.integer({ min: 0, max: 64 }),
    host: fc.constantFrom(1, 2, 0x100, 0x1ff, 0x155),
    other: fc.integer({ min: 0x200, max: 0xffff }),
    ttl: fc.integer({ min: 2, max: 255 }),
    cut: fc.integer({ min: 1, max: 1000 }),
    version: fc.integer({ min: 0, max: 255 }).filter((v) => v !== 1),
  })
  .map(({ kind, inPort, payload, host, other, ttl, cut, version }): Case => {
    const dst = kind === 'noroute' ? ADDR(other) : ADDR(host);
    const f = makeFrame({ protocol: 17, src: ADDR(0x999), dst, ttl: kind === 'ttl' ? cut % 2 : ttl, seq: cut }, payload);
    switch (kind) {
      case 'short':
        return { kind, inPort, frame: f.slice(0, cut % HEADER_BYTES) };
      case 'version':
        f[0] = version;
        return { kind, inPort, frame: f };
      case 'truncated':
        return payload === 0 ? { kind, inPort, frame: makeFrame({ protocol: 17, src: 1, dst, ttl }, 1).slice(0, HEADER_BYTES) } : { kind, inPort, frame: f.slice(0, f.length - 1 - (cut % payload)) };
      case 'length': {
        const g = new Uint8Array(f.length + 1 + (cut % 7));
        g.set(f);
        return { kind, inPort, frame: g };
      }
      default:
        return { kind, inPort, frame: f };
    }
  });

describe('switch target counters', () => {
  it('forwards by route, decrements TTL and counts packets in/out and per-port rx/tx', () => {
    const { sw, ports } = makeSwitch();
    installRoutes(sw);
    const f1 = makeFrame({ protocol: 17, src: ADDR(9), dst: ADDR(1), ttl: 10 }, 100);
    const f2 = makeFrame({ protocol: 17, src: ADDR(9), dst: ADDR(0x1fe), ttl: 3 }, 5);
    ports[0]!.arrive(f1);
    ports[2]!.arrive(f2);
    expect(ports[1]!.sent).toEqual([f1]);
    expect(ports[3]!.sent).toEqual([f2]);
    expect(f1[OFF_TTL]).toBe(9);
    expect(f2[OFF_TTL]).toBe(2);
    expect(sw.packetsIn).toBe(2);
    expect(sw.packetsOut).toBe(2);
    expect(sw.portCounters).toEqual([
      { rxPackets: 1, rxBytes: f1.length, txPackets: 0, txBytes: 0 },
      { rxPackets: 0, rxBytes: 0, txPackets: 1, txBytes: f1.length },
      { rxPackets: 1, rxBytes: f2.length, txPackets: 0, txBytes: 0 },
      { rxPackets: 0, rxBytes: 0, txPackets: 1, txBytes: f2.length },
    ]);
    expect(sw.drops()).toEqual({ parser: 0, table: 0, queue: 0, passes: 0, error: 0 });
    expect(sw.parserErrors()).toEqual({});
  });

  it('counts every frame, whatever it is: malformed ones as parser drops by kind, unrouted and TTL-expired as table drops; never throws', () => {
    fc.assert(
      fc.property(fc.array(caseArb, { minLength: 1, maxLength: 40 }), (cases) => {
        const { sw, ports } = makeSwitch();
        installRoutes(sw);
        const rx = new Array<number>(N_PORTS).fill(0);
        const rxBytes = new Array<number>(N_PORTS).fill(0);
        const tx = new Array<number>(N_PORTS).fill(0);
        const txBytes = new Array<number>(N_PORTS).fill(0);
        const parserKinds: Record<string, number> = {};
        const kindName: Partial<Record<Kind, string>> = { short: 'PacketTooShort', version: 'version', truncated: 'truncated', length: 'length' };
        let table = 0;
        let out = 0;
        for (const c of cases) {
          rx[c.inPort]!++;
          rxBytes[c.inPort]! += c.frame.length;
          const len = c.frame.length;
          const dst = c.frame.length >= HEADER_BYTES ? ((c.frame[12]! << 24) | (c.frame[13]! << 16) | (c.frame[14]! << 8) | c.frame[15]!) >>> 0 : 0;
          expect(() => ports[c.inPort]!.arrive(c.frame)).not.toThrow();
          const name = kindName[c.kind];
          if (name) parserKinds[name] = (parserKinds[name] ?? 0) + 1;
          else if (c.kind === 'routed') {
            const p = routeOf(dst)!;
            tx[p]!++;
            txBytes[p]! += len;
            out++;
          } else table++;
        }
        expect(sw.packetsIn).toBe(cases.length);
        expect(sw.packetsOut).toBe(out);
        const d = sw.drops();
        expect(d).toEqual({ parser: cases.length - out - table, table, queue: 0, passes: 0, error: 0 });
        expect(sw.parserErrors()).toEqual(parserKinds);
        expect(sw.portCounters.map((c) => c.rxPackets)).toEqual(rx);
        expect(sw.portCounters.map((c) => c.rxBytes)).toEqual(rxBytes);
        expect(sw.portCounters.map((c) => c.txPackets)).toEqual(tx);
        expect(sw.portCounters.map((c) => c.txBytes)).toEqual(txBytes);
        expect(ports.map((p) => p.sent.length)).toEqual(tx);
        // conservation: every frame in is out or dropped for exactly one reason
        expect(sw.packetsIn).toBe(sw.packetsOut + d.parser + d.table + d.passes + d.error);
      }),
      { numRuns: 200 },
    );
  });

  it('TTL expiry (0 or 1) drops the frame as a table drop and sends nothing', () => {
    const { sw, ports } = makeSwitch();
    installRoutes(sw);
    for (const ttl of [0, 1]) ports[0]!.arrive(makeFrame({ protocol: 17, src: 1, dst: ADDR(1), ttl }, 0));
    ports[0]!.arrive(makeFrame({ protocol: 17, src: 1, dst: ADDR(1), ttl: 2 }, 0));
    expect(ports[1]!.sent.map((f) => f[OFF_TTL])).toEqual([1]);
    expect(sw.drops()).toMatchObject({ table: 2, parser: 0 });
    expect(sw.packetsOut).toBe(1);
  });

  it('malformed frames of each kind are parser drops by kind', () => {
    const { sw, ports } = makeSwitch();
    installRoutes(sw);
    const good = makeFrame({ protocol: 17, src: 1, dst: ADDR(1) }, 10);
    const wrongVersion = good.slice();
    wrongVersion[0] = 2;
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    ports[0]!.arrive(new Uint8Array(0));
    ports[0]!.arrive(good.slice(0, HEADER_BYTES - 1));
    ports[1]!.arrive(wrongVersion);
    ports[2]!.arrive(good.slice(0, good.length - 2));
    ports[3]!.arrive(trailing);
    expect(sw.parserErrors()).toEqual({ PacketTooShort: 2, version: 1, truncated: 1, length: 1 });
    expect(sw.drops()).toEqual({ parser: 5, table: 0, queue: 0, passes: 0, error: 0 });
    expect(sw.packetsOut).toBe(0);
    expect(ports.every((p) => p.sent.length === 0)).toBe(true);
  });

  it('has no queue drops on bare ports (no queue configs: frames go straight to the ports)', () => {
    const { sw, ports } = makeSwitch();
    installRoutes(sw);
    for (let i = 0; i < 5; i++) ports[0]!.arrive(makeFrame({ protocol: 17, src: ADDR(9), dst: ADDR(1), seq: i }, 1000));
    expect(ports[1]!.sent.length).toBe(5);
    expect(sw.drops().queue).toBe(0);
    expect(sw.trafficManager.queuedPort(1)).toBeNull();
  });

  it('exposes the control plane and the resource summary of its pipeline', () => {
    const { sw } = makeSwitch();
    installRoutes(sw);
    expect(sw.controlPlane).toBe(sw.pipeline.controlPlane);
    expect(sw.resources().tables).toEqual([{ name: 'ipv4_lpm', keys: ['hdr.common.dst:lpm'], size: 16384, entries: 3, selector: null }]);
    expect(sw.pipeline.env.portCount).toBe(N_PORTS);
    expect(sw.pipeline.env.switchName).toBe('sw0');
  });
});

describe('switch target and the pipeline', () => {
  it('egress sees the egress port\'s queued bytes', () => {
    const seen: number[] = [];
    const { ports } = makeSwitch(probeProgram(seen), { queued: [0, 1500, 3000, 42] });
    for (const port of [1, 2, 3, 0]) ports[0]!.arrive(makeFrame({ protocol: 1, src: 1, dst: 2, dstPort: port }, 0));
    expect(seen).toEqual([1500, 3000, 42, 0]);
    expect(ports.map((p) => p.sent.length)).toEqual([1, 1, 1, 1]);
  });

  it('a program sending to a port the switch does not have is a table drop, not an error', () => {
    const { sw, ports } = makeSwitch(probeProgram([]));
    ports[0]!.arrive(makeFrame({ protocol: 1, src: 1, dst: 2, dstPort: N_PORTS }, 0));
    ports[0]!.arrive(makeFrame({ protocol: 1, src: 1, dst: 2, dstPort: 0xfffe }, 0));
    ports[0]!.arrive(makeFrame({ protocol: 1, src: 1, dst: 2, dstPort: 0xffff }, 0)); // sendToPort(-2)
    expect(sw.packetsOut).toBe(0);
    expect(sw.drops()).toEqual({ parser: 0, table: 3, queue: 0, passes: 0, error: 0 });
    expect(sw.pipeline.lastError).toBeNull();
  });

  it('runs over SimTransport links: hosts on both sides, delivery on the sim clock', () => {
    const t = new SimTransport();
    const [h0, s0] = t.linkSync('h0', 'sw-p0');
    const [h1, s1] = t.linkSync('h1', 'sw-p1');
    const [h2, s2] = t.linkSync('h2', 'sw-p2');
    const sw = new Switch({ name: 'sw', program: l3, ports: [s0, s1, s2], clock: t.clock, rng: createRng(1), seed: 1 });
    sw.controlPlane.write([lpm(ADDR(1), 32, 1), lpm(ADDR(2), 32, 2), lpm(ADDR(0), 32, 0)]);
    const got: Array<Array<{ dst: number; ttl: number; seq: number }>> = [[], [], []];
    [h0, h1, h2].forEach((h, i) =>
      h.onReceive((f) => got[i]!.push({ dst: ((f[12]! << 24) | (f[13]! << 16) | (f[14]! << 8) | f[15]!) >>> 0, ttl: f[OFF_TTL]!, seq: f[27]! })),
    );
    for (let seq = 0; seq < 6; seq++) h0.send(makeFrame({ protocol: 17, src: ADDR(0), dst: ADDR(1 + (seq % 2)), ttl: 8, seq }, 20));
    h1.send(makeFrame({ protocol: 17, src: ADDR(1), dst: ADDR(0), ttl: 8, seq: 9 }, 0));
    h2.send(makeFrame({ protocol: 17, src: ADDR(2), dst: ADDR(77), ttl: 8, seq: 10 }, 0)); // no route
    h2.send(new Uint8Array(5)); // malformed
    expect(sw.packetsIn).toBe(0); // nothing happens before the clock runs
    t.clock.runAll();
    expect(got[1]).toEqual([0, 2, 4].map((seq) => ({ dst: ADDR(1), ttl: 7, seq })));
    expect(got[2]).toEqual([1, 3, 5].map((seq) => ({ dst: ADDR(2), ttl: 7, seq })));
    expect(got[0]).toEqual([{ dst: ADDR(0), ttl: 7, seq: 9 }]);
    expect(sw.packetsIn).toBe(9);
    expect(sw.packetsOut).toBe(7);
    expect(sw.portCounters.map((c) => [c.rxPackets, c.txPackets])).toEqual([
      [6, 1],
      [1, 3],
      [2, 3],
    ]);
    expect(sw.drops()).toEqual({ parser: 1, table: 1, queue: 0, passes: 0, error: 0 });
    expect(sw.parserErrors()).toEqual({ PacketTooShort: 1 });
  });
});
