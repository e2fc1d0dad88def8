import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatAddress,
  hostPrefix,
  hostPrefixes,
  LOOPBACK_NETWORK,
  parseAddress,
  prefixContains,
  HOST_NETWORK,
} from '../../src/topology/address-plan.js';
import { fatTreeTopology } from '../../src/topology/fat-tree.js';
import { leafSpineTopology } from '../../src/topology/leaf-spine.js';
import { starTopology } from '../../src/topology/star.js';
import { attachmentOf, nodeByName, type Topology } from '../../src/topology/types.js';

const addr = (t: Topology, name: string) => formatAddress(nodeByName(t, name).address);

function expectPlanHolds(t: Topology): void {
  const all = t.nodes.map((n) => n.address);
  expect(new Set(all).size).toBe(all.length);
  for (const n of t.nodes) {
    expect(Number.isInteger(n.address) && n.address >= 0 && n.address < 2 ** 32).toBe(true);
    expect(prefixContains(HOST_NETWORK, n.address)).toBe(true);
    // loopbacks and host subnets never overlap
    expect(prefixContains(LOOPBACK_NETWORK, n.address)).toBe(n.role === 'switch');
  }
  for (const h of t.hosts) {
    const edge = attachmentOf(t, h).switch;
    const prefix = hostPrefix(t, edge);
    expect(prefix.prefixLen).toBe(24);
    expect(prefixContains(prefix, nodeByName(t, h).address)).toBe(true);
    // and in no other switch's prefix
    for (const [s, p] of hostPrefixes(t)) if (s !== edge) expect(prefixContains(p, nodeByName(t, h).address)).toBe(false);
  }
}

describe('address plan', () => {
  it('formats and parses as inverses', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), (n) => {
        expect(parseAddress(formatAddress(n))).toBe(n);
      }),
    );
    expect(formatAddress(0x0a000102)).toBe('10.0.1.2');
    expect(parseAddress('255.255.255.255')).toBe(2 ** 32 - 1);
    for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.1.2', 'a.b.c.d', ' 10.0.0.1']) expect(() => parseAddress(bad)).toThrow();
  });

  it('star: 10.0.0.0/24, h{i} = .{i+1}, s0 = 10.255.0.1', () => {
    const t = starTopology(4);
    expect(addr(t, 'h0')).toBe('10.0.0.1');
    expect(addr(t, 'h3')).toBe('10.0.0.4');
    expect(addr(t, 's0')).toBe('10.255.0.1');
    expect(hostPrefix(t, 's0')).toEqual({ value: parseAddress('10.0.0.0'), prefixLen: 24 });
    expectPlanHolds(t);
  });

  it('leaf-spine: 10.0.<leaf>.0/24', () => {
    const t = leafSpineTopology(2, 2, 4);
    expect(addr(t, 'h0')).toBe('10.0.0.1');
    expect(addr(t, 'h5')).toBe('10.0.1.2');
    expect(addr(t, 'leaf0')).toBe('10.255.0.1');
    expect(addr(t, 'spine1')).toBe('10.255.0.4');
    expect(formatAddress(hostPrefix(t, 'leaf1').value)).toBe('10.0.1.0');
    expect(() => hostPrefix(t, 'spine0')).toThrow(/no hosts/);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 20 }), (L, S, H) =>
        expectPlanHolds(leafSpineTopology(L, S, H)),
      ),
      { numRuns: 30 },
    );
  });

  it.each([2, 4, 6, 8])('fat-tree k=%i: 10.<pod>.<edge>.0/24, unique addresses', (k) => {
    const t = fatTreeTopology(k);
    const h = k / 2;
    // host j of edge{p}_{i} is h{p*h*h + i*h + j} at 10.p.i.(j+1)
    const [p, i, j] = [k - 1, h - 1, h - 1];
    expect(addr(t, `h${p * h * h + i * h + j}`)).toBe(`10.${p}.${i}.${j + 1}`);
    if (k >= 4) expect(addr(t, `h${h * h + h + 1}`)).toBe('10.1.1.2');
    expect(formatAddress(hostPrefix(t, `edge${k - 1}_${h - 1}`).value)).toBe(`10.${k - 1}.${h - 1}.0`);
    expectPlanHolds(t);
  });
});
