/**
 * Where each link endpoint lives in a multi-process run: one /29 per link (or one loopback port
 * per endpoint), every address distinct, and each node's view of its own links.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATA_PORT, endpointAddress, LINK_PREFIX, linkSubnet, linksOf, MAX_LINKS } from '../../src/cluster/link-addresses.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import type { Topology, TopologySpec } from '../../src/topology/types.js';

const spec: fc.Arbitrary<TopologySpec> = fc.oneof(
  fc.integer({ min: 1, max: 64 }).map((hosts): TopologySpec => ({ kind: 'star', hosts })),
  fc
    .record({ leaves: fc.integer({ min: 1, max: 8 }), spines: fc.integer({ min: 1, max: 4 }), hostsPerLeaf: fc.integer({ min: 1, max: 8 }) })
    .map((p): TopologySpec => ({ kind: 'leaf-spine', ...p })),
  fc.constantFrom(4, 6).map((k): TopologySpec => ({ kind: 'fat-tree', k })),
);

/** One of every kind, so each is exercised even if the property's draws are unlucky. */
const FIXED: TopologySpec[] = [
  { kind: 'star', hosts: 1 },
  { kind: 'star', hosts: 16 },
  { kind: 'leaf-spine', leaves: 4, spines: 2, hostsPerLeaf: 3 },
  { kind: 'fat-tree', k: 4 },
  { kind: 'fat-tree', k: 6 },
];

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || !parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)) throw new Error(`not a dotted IPv4 address: ${ip}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inSubnet(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/');
  const mask = Number(len) === 0 ? 0 : (~0 << (32 - Number(len))) >>> 0;
  return (ipToInt(ip) & mask) >>> 0 === ipToInt(net!) >>> 0;
}

function checkLinksPlan(t: Topology): void {
  const seen = new Set<string>();
  const subnets = new Set<string>();
  t.links.forEach((_, i) => {
    const s = linkSubnet(i);
    expect(s.subnet.endsWith(`/${LINK_PREFIX}`)).toBe(true);
    const net = ipToInt(s.subnet.split('/')[0]!);
    expect(net % 8).toBe(0); // aligned /29
    expect(subnets.has(s.subnet)).toBe(false);
    subnets.add(s.subnet);
    const a = endpointAddress({ kind: 'links' }, i, 'a');
    const b = endpointAddress({ kind: 'links' }, i, 'b');
    expect(a.host).toBe(s.a);
    expect(b.host).toBe(s.b);
    expect(a.port).toBe(DATA_PORT);
    expect(b.port).toBe(DATA_PORT);
    for (const ip of [a.host, b.host, s.gateway]) expect(inSubnet(ip, s.subnet)).toBe(true);
    // neither the network nor the broadcast address, and all three distinct
    const usable = [a.host, b.host, s.gateway].map(ipToInt);
    for (const u of usable) expect(u > net && u < net + 7).toBe(true);
    expect(new Set(usable).size).toBe(3);
    for (const ip of [a.host, b.host]) {
      expect(seen.has(ip)).toBe(false);
      seen.add(ip);
    }
  });
  expect(seen.size).toBe(2 * t.links.length);
}

function checkLoopbackPlan(t: Topology, basePort: number): void {
  const ports = new Set<number>();
  t.links.forEach((_, i) => {
    for (const side of ['a', 'b'] as const) {
      const e = endpointAddress({ kind: 'loopback', basePort }, i, side);
      expect(e.host).toBe('127.0.0.1');
      expect(Number.isInteger(e.port) && e.port >= basePort).toBe(true);
      expect(ports.has(e.port)).toBe(false);
      ports.add(e.port);
    }
  });
  expect(ports.size).toBe(2 * t.links.length);
}

function checkLinksOf(t: Topology): void {
  let total = 0;
  for (const node of t.nodes) {
    const expected: Array<{ index: number; side: 'a' | 'b'; port: number; peer: string; peerPort: number }> = [];
    for (let index = 0; index < t.links.length; index++) {
      const l = t.links[index]!;
      if (l.a === node.name) expected.push({ index, side: 'a', port: l.aPort, peer: l.b, peerPort: l.bPort });
      if (l.b === node.name) expected.push({ index, side: 'b', port: l.bPort, peer: l.a, peerPort: l.aPort });
    }
    const got = linksOf(t, node.name);
    expect(got).toEqual(expected);
    // every port of the node, once
    expect(got.map((g) => g.port).sort((x, y) => x - y)).toEqual([...Array(node.ports).keys()]);
    total += got.length;
  }
  expect(total).toBe(2 * t.links.length);
  expect(linksOf(t, 'no-such-node')).toEqual([]);
}

describe('link addresses', () => {
  it.each(FIXED)('every endpoint has its own address and port ($kind)', (s) => {
    const t = buildTopology(s);
    expect(t.links.length).toBeGreaterThan(0);
    checkLinksPlan(t);
    checkLoopbackPlan(t, 20_000);
    checkLinksOf(t);
  });

  it('property: unique endpoints in both plans, and linksOf matches a scan of the links', () => {
    fc.assert(
      fc.property(spec, fc.integer({ min: 1024, max: 40_000 }), (s, basePort) => {
        const t = buildTopology(s);
        checkLinksPlan(t);
        checkLoopbackPlan(t, basePort);
        checkLinksOf(t);
      }),
      { numRuns: 30 },
    );
  });

  it('subnets of distinct link indexes never overlap, over the whole index range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_LINKS - 1 }), fc.integer({ min: 0, max: MAX_LINKS - 1 }), (i, j) => {
        fc.pre(i !== j);
        const si = linkSubnet(i);
        const sj = linkSubnet(j);
        expect(si.subnet).not.toBe(sj.subnet);
        for (const ip of [sj.a, sj.b, sj.gateway]) expect(inSubnet(ip, si.subnet)).toBe(false);
      }),
    );
    expect(linkSubnet(0)).toEqual({ subnet: '10.100.0.0/29', gateway: '10.100.0.1', a: '10.100.0.2', b: '10.100.0.3' });
    expect(linkSubnet(1).subnet).toBe('10.100.0.8/29');
    expect(linkSubnet(MAX_LINKS - 1).subnet).toBe('10.100.255.248/29');
  });

  it('linkSubnet rejects negative, too-large and non-integer indexes', () => {
    for (const bad of [-1, -8, MAX_LINKS, MAX_LINKS + 1, 1e9, 0.5, NaN, Infinity, -Infinity]) {
      expect(() => linkSubnet(bad), String(bad)).toThrow(/link index/);
      expect(() => endpointAddress({ kind: 'links' }, bad, 'a'), String(bad)).toThrow(/link index/);
    }
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: MAX_LINKS })), (i) => {
        expect(() => linkSubnet(i)).toThrow(/outside/);
      }),
    );
  });
});
