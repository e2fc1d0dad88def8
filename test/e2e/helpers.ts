/**
 * Shared checks for the end-to-end tests: scenarios built in code through the real validator,
 * the contract's report shape, and traffic-conservation identities over the report's counters.
 */
import { expect } from 'vitest';
import { validateScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import type { LinkReport, PingallResult, Report } from '../../src/report/types.js';

/** A scenario built in code, validated (and defaulted) exactly as a file would be. */
export function scenario(value: Record<string, unknown>): Scenario {
  return validateScenario(value, '<e2e>');
}

export function pingallScenario(
  name: string,
  topology: Record<string, unknown>,
  opts: { mode?: 'sim' | 'udp'; seed?: number; count?: number; links?: Record<string, unknown> } = {},
): Scenario {
  return scenario({
    name,
    mode: opts.mode ?? 'sim',
    seed: opts.seed ?? 1,
    topology,
    ...(opts.links ? { links: opts.links } : {}),
    switches: { loadBalancing: 'ecmp' },
    workloads: [{ kind: 'pingall', count: opts.count ?? 3 }],
  });
}

const isNonNegInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function expectDirCounter(v: unknown, what: string): void {
  expect(v, what).toEqual({ ab: expect.any(Number), ba: expect.any(Number) });
  const d = v as { ab: number; ba: number };
  expect(isNonNegInt(d.ab) && isNonNegInt(d.ba), `${what} are non-negative integers: ${JSON.stringify(d)}`).toBe(true);
}

/** The report's shape, as CONTRACT.md "Report (JSON)" writes it. */
export function expectReportShape(r: Report, s: { name: string; mode: 'sim' | 'udp'; seed: number }, topo: { kind: string; switches: string[]; hosts: string[]; links: number }): void {
  expect(r.version).toBe(1);
  expect(r.scenario).toBe(s.name);
  expect(r.mode).toBe(s.mode);
  expect(r.seed).toBe(s.seed);
  expect(r.topology.kind).toBe(topo.kind);
  // the contract names the nodes; it does not fix the order switches are listed in
  expect([...r.topology.switches].sort()).toEqual([...topo.switches].sort());
  expect(r.topology.hosts).toEqual(topo.hosts);
  expect(r.topology.links).toBe(topo.links);
  expect(Array.isArray(r.runs)).toBe(true);
  expect(r.links).toHaveLength(topo.links);
  const nodes = new Set([...topo.switches, ...topo.hosts]);
  for (const l of r.links) {
    expect(nodes.has(l.a), `link end ${l.a} is a node`).toBe(true);
    expect(nodes.has(l.b), `link end ${l.b} is a node`).toBe(true);
    for (const k of ['bytes', 'packets', 'drops', 'lost', 'maxQueueBytes'] as const) expectDirCounter(l[k], `${l.a}-${l.b} ${k}`);
  }
  // every link named once
  expect(new Set(r.links.map((l) => `${l.a}|${l.b}`)).size).toBe(topo.links);
  expect(r.switches.map((w) => w.name).sort()).toEqual([...topo.switches].sort());
  for (const w of r.switches) {
    expect(typeof w.program).toBe('string');
    expect(isNonNegInt(w.packetsIn) && isNonNegInt(w.packetsOut)).toBe(true);
    expect(w.drops).toMatchObject({ parser: expect.any(Number), table: expect.any(Number), queue: expect.any(Number) });
  }
  // the report must survive JSON (no Maps, BigInts, NaN or cycles)
  expect(JSON.parse(JSON.stringify(r))).toEqual(r);
}

export function expectPingallShape(run: unknown): asserts run is PingallResult {
  expect(run).toMatchObject({
    workload: 'pingall',
    pairs: expect.any(Number),
    sent: expect.any(Number),
    received: expect.any(Number),
    rttUs: { p50: expect.any(Number), p99: expect.any(Number) },
    correct: expect.any(Boolean),
  });
  const p = run as PingallResult;
  expect(p.rttUs.p50).toBeGreaterThanOrEqual(0);
  expect(p.rttUs.p99).toBeGreaterThanOrEqual(p.rttUs.p50);
}

/** Host names h0..h{n-1}. */
export const hostNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `h${i}`);

/** Switch hops between two hosts, from the contract's node naming (leaf-major / pod-major). */
export type Hops = (i: number, j: number) => number;
export const starHops: Hops = () => 1;
export const leafSpineHops = (hostsPerLeaf: number): Hops => (i, j) => (Math.floor(i / hostsPerLeaf) === Math.floor(j / hostsPerLeaf) ? 1 : 3);
export const fatTreeHops = (k: number): Hops => (i, j) => {
  const perEdge = k / 2;
  const perPod = perEdge * perEdge;
  if (Math.floor(i / perEdge) === Math.floor(j / perEdge)) return 1;
  if (Math.floor(i / perPod) === Math.floor(j / perPod)) return 3;
  return 5;
};

const isHost = (name: string): boolean => /^h\d+$/.test(name);

/** Links where one end is a host, oriented host→switch as `up`, switch→host as `down`. */
export function hostLinks(r: Report): Array<{ host: string; link: LinkReport; up: 'ab' | 'ba'; down: 'ab' | 'ba' }> {
  return r.links
    .filter((l) => isHost(l.a) || isHost(l.b))
    .map((link) => (isHost(link.a) ? { host: link.a, link, up: 'ab' as const, down: 'ba' as const } : { host: link.b, link, up: 'ba' as const, down: 'ab' as const }));
}

/**
 * Frames conserved at every switch: what arrived (packets sent toward it minus those lost on
 * the wire) is packetsIn; what it emitted (transmitted plus tail-dropped on its egress) is
 * packetsOut. Holds for unshaped links (rateGbps 0), lossy or not.
 */
export function expectSwitchConservation(r: Report): void {
  for (const w of r.switches) {
    let arrived = 0;
    let emitted = 0;
    for (const l of r.links) {
      const lost = l.lost;
      if (l.b === w.name) {
        arrived += l.packets.ab - lost.ab;
        emitted += l.packets.ba + l.drops.ba;
      }
      if (l.a === w.name) {
        arrived += l.packets.ba - lost.ba;
        emitted += l.packets.ab + l.drops.ab;
      }
    }
    expect(w.packetsIn, `${w.name} packetsIn = frames that reached it over its links`).toBe(arrived);
    expect(w.packetsOut, `${w.name} packetsOut = frames put on its links`).toBe(emitted);
  }
}

/**
 * Everything a lossless pingall of `count` pings per ordered pair among n hosts must leave in
 * the report: every ping answered, no drops anywhere, and every counter equal to what the
 * traffic implies.
 */
export function expectLosslessPingall(r: Report, n: number, count: number, hops: Hops): void {
  expect(r.runs).toHaveLength(1);
  const run = r.runs[0];
  expectPingallShape(run);
  const pairs = n * (n - 1);
  expect(run.pairs).toBe(pairs);
  expect(run.sent).toBe(pairs * count);
  expect(run.received).toBe(pairs * count);
  expect(run.correct).toBe(true);
  expect(run.mismatched).toBe(0);

  for (const w of r.switches) {
    expect(w.drops.parser, `${w.name} parser drops`).toBe(0);
    expect(w.drops.table, `${w.name} table drops`).toBe(0);
    expect(w.drops.queue, `${w.name} queue drops`).toBe(0);
    expect(w.packetsOut, `${w.name} forwards every frame it takes in`).toBe(w.packetsIn);
  }
  for (const l of r.links) {
    expect(l.drops, `${l.a}-${l.b} drops`).toEqual({ ab: 0, ba: 0 });
    expect(l.lost, `${l.a}-${l.b} lost`).toEqual({ ab: 0, ba: 0 });
  }

  // Each host sends count*(n-1) requests and as many replies, and receives the same.
  const hl = hostLinks(r);
  expect(hl.map((h) => h.host).sort()).toEqual(hostNames(n).sort());
  const perHost = 2 * count * (n - 1);
  for (const h of hl) {
    expect(h.link.packets[h.up], `${h.host} frames sent`).toBe(perHost);
    expect(h.link.packets[h.down], `${h.host} frames received`).toBe(perHost);
  }
  // Sum over host links of packets both ways = every ping frame seen at hosts (sent + received).
  const hostFrames = hl.reduce((s, h) => s + h.link.packets.ab + h.link.packets.ba, 0);
  expect(hostFrames).toBe(4 * run.sent);

  // All frames are pings of one size: bytes = packets × frame size on every direction.
  const frameBytes = hl[0]!.link.bytes.ab / hl[0]!.link.packets.ab;
  expect(Number.isInteger(frameBytes) && frameBytes >= 36, `ping frame size ${frameBytes}`).toBe(true);
  for (const l of r.links) {
    expect(l.bytes.ab, `${l.a}->${l.b} bytes`).toBe(l.packets.ab * frameBytes);
    expect(l.bytes.ba, `${l.b}->${l.a} bytes`).toBe(l.packets.ba * frameBytes);
  }

  // Every frame crosses hops(src, dst) switches: request and reply alike.
  let hopSum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) hopSum += hops(i, j);
  const totalIn = r.switches.reduce((s, w) => s + w.packetsIn, 0);
  expect(totalIn, 'switch traversals = 2 × count × Σ hops').toBe(2 * count * hopSum);
  // ... and hops + 1 links.
  const linkPackets = r.links.reduce((s, l) => s + l.packets.ab + l.packets.ba, 0);
  expect(linkPackets).toBe(totalIn + 2 * run.sent);
  expectSwitchConservation(r);
}
