import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fatTreeTopology } from '../../src/topology/fat-tree.js';
import { buildTopology, hostCount } from '../../src/topology/from-spec.js';
import { leafSpineTopology } from '../../src/topology/leaf-spine.js';
import { starTopology } from '../../src/topology/star.js';
import { attachmentOf, linksOf, neighbourAt, nodeByName, portToward, type Topology } from '../../src/topology/types.js';

/** invariants every generated topology must hold, whatever its kind */
function expectWellFormed(t: Topology): void {
  const names = t.nodes.map((n) => n.name);
  expect(new Set(names).size).toBe(names.length);
  expect([...t.hosts, ...t.switches].sort()).toEqual([...names].sort());
  for (const node of t.nodes) {
    const ports = linksOf(t, node.name).map((l) => (l.a === node.name ? l.aPort : l.bPort));
    // ports are 0..ports-1, each used once, and linksOf returns them in port order
    expect(ports).toEqual(Array.from({ length: node.ports }, (_, i) => i));
    expect(node.role).toBe(node.tier === 'host' ? 'host' : 'switch');
  }
  for (const h of t.hosts) {
    expect(nodeByName(t, h).ports).toBe(1);
    const att = attachmentOf(t, h);
    expect(nodeByName(t, att.switch).role).toBe('switch');
    expect(neighbourAt(t, att.switch, att.port)).toEqual({ node: h, port: 0 });
  }
  for (const l of t.links) {
    expect(t.tierKeys).toContain(l.tier);
    expect(portToward(t, l.a, l.b)).toBe(l.aPort);
    expect(portToward(t, l.b, l.a)).toBe(l.bPort);
  }
}

/** host ports of a switch come before its other ports */
function expectHostPortsFirst(t: Topology): void {
  for (const s of t.switches) {
    const peers = linksOf(t, s).map((l) => (l.a === s ? l.b : l.a));
    const roles = peers.map((p) => nodeByName(t, p).role);
    const firstSwitch = roles.indexOf('switch');
    if (firstSwitch >= 0) expect(roles.slice(firstSwitch)).not.toContain('host');
  }
}

describe('star', () => {
  it('has s0 and h0..h{N-1}, host i on port i', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), (n) => {
        const t = starTopology(n);
        expect(t.kind).toBe('star');
        expect(t.switches).toEqual(['s0']);
        expect(t.hosts).toEqual(Array.from({ length: n }, (_, i) => `h${i}`));
        expect(t.links).toHaveLength(n);
        expect(t.tierKeys).toEqual(['host-switch']);
        for (let i = 0; i < n; i++) expect(attachmentOf(t, `h${i}`)).toEqual({ switch: 's0', port: i });
        expectWellFormed(t);
      }),
    );
  });

  it('rejects sizes the address plan cannot hold', () => {
    expect(() => starTopology(0)).toThrow();
    expect(() => starTopology(255)).toThrow();
  });
});

describe('leaf-spine', () => {
  it('has the contract names, full bipartite uplinks and the documented ports', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), (L, S, H) => {
        const t = leafSpineTopology(L, S, H);
        expect(t.switches).toEqual([...Array.from({ length: L }, (_, i) => `leaf${i}`), ...Array.from({ length: S }, (_, j) => `spine${j}`)]);
        expect(t.hosts).toEqual(Array.from({ length: L * H }, (_, n) => `h${n}`));
        expect(t.links).toHaveLength(L * H + L * S);
        expect(t.tierKeys).toEqual(['host-leaf', 'leaf-spine']);
        for (let n = 0; n < L * H; n++) {
          // leaf-major numbering: h0..h{H-1} under leaf0, host n on leaf port n mod H
          expect(attachmentOf(t, `h${n}`)).toEqual({ switch: `leaf${Math.floor(n / H)}`, port: n % H });
        }
        for (let i = 0; i < L; i++) {
          expect(nodeByName(t, `leaf${i}`).ports).toBe(H + S);
          for (let j = 0; j < S; j++) {
            expect(portToward(t, `leaf${i}`, `spine${j}`)).toBe(H + j);
            expect(portToward(t, `spine${j}`, `leaf${i}`)).toBe(i);
          }
        }
        for (const l of t.links) expect(l.tier === 'host-leaf' ? l.a.startsWith('h') && l.b.startsWith('leaf') : l.a.startsWith('leaf') && l.b.startsWith('spine')).toBe(true);
        expectWellFormed(t);
        expectHostPortsFirst(t);
      }),
    );
  });
});

describe('fat-tree', () => {
  it.each([2, 4, 6, 8])('k=%i has k^3/4 hosts, 5k^2/4 switches, 3k^3/4 links, contract names and wiring', (k) => {
    const t = fatTreeTopology(k);
    const h = k / 2;
    expect(t.hosts).toHaveLength(k ** 3 / 4);
    expect(t.switches).toHaveLength((5 * k * k) / 4);
    expect(t.links).toHaveLength((3 * k ** 3) / 4);
    expect(t.tierKeys).toEqual(['host-edge', 'edge-agg', 'agg-core']);
    expect(t.hosts).toEqual(Array.from({ length: k ** 3 / 4 }, (_, n) => `h${n}`));
    const cores = Array.from({ length: h * h }, (_, m) => `core${m}`);
    const aggs: string[] = [];
    const edges: string[] = [];
    for (let p = 0; p < k; p++) for (let i = 0; i < h; i++) aggs.push(`agg${p}_${i}`), edges.push(`edge${p}_${i}`);
    expect([...t.switches].sort()).toEqual([...cores, ...aggs, ...edges].sort());
    for (const s of t.switches) expect(nodeByName(t, s).ports).toBe(k); // every fat-tree switch has k ports

    for (let p = 0; p < k; p++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < h; j++) {
          // pod-major, then edge-major
          expect(attachmentOf(t, `h${p * h * h + i * h + j}`)).toEqual({ switch: `edge${p}_${i}`, port: j });
        }
        for (let a = 0; a < h; a++) {
          expect(portToward(t, `edge${p}_${i}`, `agg${p}_${a}`)).toBe(h + a);
          expect(portToward(t, `agg${p}_${a}`, `edge${p}_${i}`)).toBe(i);
        }
        // agg{p}_{i} reaches cores i*(k/2) .. i*(k/2)+k/2-1, nothing else upward
        const up = linksOf(t, `agg${p}_${i}`).filter((l) => l.tier === 'agg-core').map((l) => l.b);
        expect(up).toEqual(Array.from({ length: h }, (_, c) => `core${i * h + c}`));
        for (let c = 0; c < h; c++) expect(portToward(t, `agg${p}_${i}`, `core${i * h + c}`)).toBe(h + c);
      }
    }
    for (let m = 0; m < h * h; m++) {
      for (let p = 0; p < k; p++) expect(neighbourAt(t, `core${m}`, p).node).toBe(`agg${p}_${Math.floor(m / h)}`);
    }
    expectWellFormed(t);
    expectHostPortsFirst(t);
  });

  it('rejects odd, too small and too large k', () => {
    for (const k of [0, 1, 3, 5, 66, 2.5]) expect(() => fatTreeTopology(k)).toThrow(RangeError);
  });
});

describe('buildTopology', () => {
  it('dispatches on kind and agrees with hostCount', () => {
    for (const spec of [
      { kind: 'star', hosts: 5 },
      { kind: 'leaf-spine', leaves: 3, spines: 2, hostsPerLeaf: 4 },
      { kind: 'fat-tree', k: 4 },
    ] as const) {
      const t = buildTopology(spec);
      expect(t.kind).toBe(spec.kind);
      expect(t.hosts).toHaveLength(hostCount(spec));
    }
  });
});
