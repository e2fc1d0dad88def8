import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopologyBuilder } from '../../src/topology/builder.js';
import { fatTreeTopology } from '../../src/topology/fat-tree.js';
import { leafSpineTopology } from '../../src/topology/leaf-spine.js';
import { distancesFrom, equalCostNextHops, hopDistance, lowestCommonAncestors, nextHopPorts } from '../../src/topology/shortest-paths.js';
import { starTopology } from '../../src/topology/star.js';
import type { Topology } from '../../src/topology/types.js';

/** an independent reference: adjacency straight from the link list, plain BFS */
function referenceDistances(t: Topology, source: string): Map<string, number> {
  const adj = new Map<string, string[]>(t.nodes.map((n) => [n.name, []]));
  for (const l of t.links) adj.get(l.a)!.push(l.b), adj.get(l.b)!.push(l.a);
  const dist = new Map([[source, 0]]);
  let frontier = [source];
  while (frontier.length) {
    const next: string[] = [];
    for (const u of frontier) for (const v of adj.get(u)!) if (!dist.has(v)) dist.set(v, dist.get(u)! + 1), next.push(v);
    frontier = next;
  }
  return dist;
}

/** every listed port leads strictly closer to the host, and every port that does is listed */
function expectNextHopsExact(t: Topology): void {
  const hops = equalCostNextHops(t);
  expect([...hops.keys()]).toEqual(t.switches);
  for (const host of t.hosts) {
    const dist = referenceDistances(t, host);
    for (const s of t.switches) {
      const expected: number[] = [];
      for (const l of t.links) {
        if (l.a === s && dist.get(l.b)! < dist.get(s)!) expected.push(l.aPort);
        if (l.b === s && dist.get(l.a)! < dist.get(s)!) expected.push(l.bPort);
      }
      expected.sort((x, y) => x - y);
      const got = hops.get(s)!.get(host)!;
      expect(got).toEqual(expected);
      expect(got.length).toBeGreaterThan(0);
      expect(hopDistance(t, s, host)).toBe(dist.get(s));
    }
  }
}

describe('equalCostNextHops', () => {
  it('matches an independent BFS on stars, leaf-spines and fat-trees', () => {
    expectNextHopsExact(starTopology(5));
    expectNextHopsExact(fatTreeTopology(2));
    expectNextHopsExact(fatTreeTopology(4));
    expectNextHopsExact(fatTreeTopology(6));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), (L, S, H) =>
        expectNextHopsExact(leafSpineTopology(L, S, H)),
      ),
      { numRuns: 25 },
    );
  });

  it('matches an independent BFS on random connected custom topologies', () => {
    const arb = fc
      .record({ switches: fc.integer({ min: 1, max: 8 }), hosts: fc.integer({ min: 1, max: 8 }), seed: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }) })
      .map(({ switches, hosts, seed }) => {
        const b = new TopologyBuilder();
        for (let i = 0; i < switches; i++) b.addSwitch(`s${i}`);
        for (let i = 0; i < hosts; i++) b.addHost(`h${i}`);
        const pairs = new Set<string>();
        // a random spanning tree keeps it connected; extra edges create equal-cost choices
        for (let i = 1; i < switches; i++) {
          const j = seed[i]! % i;
          pairs.add(`${j},${i}`);
          b.addLink(`s${j}`, `s${i}`, 'sw');
        }
        for (let e = 0; e < switches; e++) {
          const x = seed[20 + e]! % switches;
          const y = seed[30 + (e % 10)]! % switches;
          const key = `${Math.min(x, y)},${Math.max(x, y)}`;
          if (x !== y && !pairs.has(key)) pairs.add(key), b.addLink(`s${x}`, `s${y}`, 'sw');
        }
        for (let i = 0; i < hosts; i++) b.addLink(`h${i}`, `s${seed[10 + i]! % switches}`, 'host');
        return b.build();
      });
    fc.assert(fc.property(arb, (t) => expectNextHopsExact(t)), { numRuns: 100 });
  });

  it('leaf-spine: up = all spines, down = the host port', () => {
    const t = leafSpineTopology(3, 4, 2);
    const hops = equalCostNextHops(t);
    expect(hops.get('leaf0')!.get('h5')).toEqual([2, 3, 4, 5]); // ports H..H+S-1
    expect(hops.get('leaf0')!.get('h1')).toEqual([1]);
    expect(hops.get('spine2')!.get('h5')).toEqual([2]); // leaf2
  });

  it('fat-tree: edges spread over all aggs, aggs over all their cores', () => {
    const t = fatTreeTopology(4);
    const hops = equalCostNextHops(t);
    expect(hops.get('edge0_0')!.get('h15')).toEqual([2, 3]);
    expect(hops.get('agg0_1')!.get('h15')).toEqual([2, 3]);
    expect(hops.get('agg0_1')!.get('h2')).toEqual([1]); // edge0_1, same pod
    expect(hops.get('core3')!.get('h15')).toEqual([3]); // pod 3
  });
});

describe('hopDistance and lowestCommonAncestors', () => {
  it('measures hops and reports unreachable as Infinity', () => {
    const t = fatTreeTopology(4);
    expect(hopDistance(t, 'h0', 'h0')).toBe(0);
    expect(hopDistance(t, 'h0', 'h1')).toBe(2);
    expect(hopDistance(t, 'h0', 'h2')).toBe(4);
    expect(hopDistance(t, 'h0', 'h15')).toBe(6);
    const split = new TopologyBuilder().addSwitch('a').addSwitch('b').addHost('x').addHost('y').addLink('x', 'a', 't').addLink('y', 'b', 't').build();
    expect(hopDistance(split, 'x', 'y')).toBe(Infinity);
    expect(equalCostNextHops(split).get('a')!.get('y')).toEqual([]);
  });

  it('picks the leaf, the spines, the pod aggs or the cores', () => {
    const ls = leafSpineTopology(2, 3, 4);
    expect(lowestCommonAncestors(ls, ['h0', 'h3'])).toEqual(['leaf0']);
    expect(lowestCommonAncestors(ls, ['h0', 'h4'])).toEqual(['spine0', 'spine1', 'spine2']);
    expect(lowestCommonAncestors(ls, ['h2'])).toEqual(['leaf0']);
    const ft = fatTreeTopology(4);
    expect(lowestCommonAncestors(ft, ['h0', 'h1'])).toEqual(['edge0_0']);
    expect(lowestCommonAncestors(ft, ['h0', 'h2'])).toEqual(['agg0_0', 'agg0_1']);
    expect(lowestCommonAncestors(ft, ['h0', 'h4'])).toEqual(['core0', 'core1', 'core2', 'core3']);
    expect(lowestCommonAncestors(starTopology(3), ['h0', 'h1', 'h2'])).toEqual(['s0']);
    expect(() => lowestCommonAncestors(ft, [])).toThrow();
    expect(() => lowestCommonAncestors(ft, ['edge0_0'])).toThrow(/not a host/);
  });
});

/**
 * The geometry stores only switch-to-switch distances (a host is its switch plus one hop):
 * every node pair, every next-hop set toward a switch, and every group's common ancestors
 * against the reference BFS, on random custom topologies that may fall apart into pieces.
 */
describe('switch-only geometry against a brute-force reference', () => {
  const arb = fc
    .record({ switches: fc.integer({ min: 1, max: 7 }), hosts: fc.integer({ min: 1, max: 7 }), edges: fc.array(fc.tuple(fc.nat(6), fc.nat(6)), { maxLength: 12 }), at: fc.array(fc.nat(6), { minLength: 7, maxLength: 7 }) })
    .map(({ switches, hosts, edges, at }) => {
      const b = new TopologyBuilder();
      for (let i = 0; i < switches; i++) b.addSwitch(`s${i}`);
      for (let i = 0; i < hosts; i++) b.addHost(`h${i}`);
      const pairs = new Set<string>();
      for (const [x0, y0] of edges) {
        const x = x0 % switches;
        const y = y0 % switches;
        const key = `${Math.min(x, y)},${Math.max(x, y)}`;
        if (x !== y && !pairs.has(key)) pairs.add(key), b.addLink(`s${x}`, `s${y}`, 'sw');
      }
      for (let i = 0; i < hosts; i++) b.addLink(`h${i}`, `s${at[i]! % switches}`, 'host');
      return b.build();
    });

  it('hopDistance and distancesFrom: every pair, Infinity exactly where the reference finds no path', () => {
    fc.assert(
      fc.property(arb, (t) => {
        for (const a of t.nodes) {
          const ref = referenceDistances(t, a.name);
          for (const b of t.nodes) expect(hopDistance(t, a.name, b.name)).toBe(ref.get(b.name) ?? Infinity);
          expect(new Map([...distancesFrom(t, a.name)].sort())).toEqual(new Map([...ref].sort()));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('nextHopPorts toward switches (loopback routes) and hosts: exactly the ports one hop closer', () => {
    fc.assert(
      fc.property(arb, (t) => {
        for (const target of t.nodes) {
          const ref = referenceDistances(t, target.name);
          for (const s of t.switches) {
            const here = ref.get(s);
            const expected: number[] = [];
            if (here !== undefined && here > 0) {
              for (const l of t.links) {
                if (l.a === s && ref.get(l.b) === here - 1) expected.push(l.aPort);
                if (l.b === s && ref.get(l.a) === here - 1) expected.push(l.bPort);
              }
            }
            expect(nextHopPorts(t, s, target.name)).toEqual(expected.sort((x, y) => x - y));
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('lowestCommonAncestors: the switches minimising the largest distance, by brute force', () => {
    fc.assert(
      fc.property(arb, fc.array(fc.nat(6), { minLength: 1, maxLength: 5 }), (t, picks) => {
        const group = [...new Set(picks.map((i) => t.hosts[i % t.hosts.length]!))];
        const refs = group.map((h) => referenceDistances(t, h));
        const worst = t.switches.map((s) => Math.max(...refs.map((r) => r.get(s) ?? Infinity)));
        const best = Math.min(...worst);
        const expected = best === Infinity ? [] : t.switches.filter((_, i) => worst[i] === best);
        expect(lowestCommonAncestors(t, group)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
