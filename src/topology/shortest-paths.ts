/**
 * Hop-count geometry of a topology: what ECMP-style routing needs (the set of equal-cost next
 * hops per switch and destination) and what the aggregation manager needs (a switch close to
 * all members of a group).
 *
 * Every link costs one hop. Hosts have exactly one link (the builder enforces it), so no
 * shortest path transits a host, and a host's distance to anything is its switch's plus one.
 * Only switch-to-switch distances are therefore stored: one BFS over the switch links per
 * source switch, on demand, into an Int32Array indexed by switch. A fat-tree k = 32 has 8,192
 * hosts but 1,280 switches: 6.5 MB for every vector, where a distance map per host (the
 * earlier cache) came to several GB and exhausted the heap before any workload ran.
 */
import { findNode, nodeByName, portsOf, type Topology } from './types.js';

const UNREACHABLE = -1;

interface Geometry {
  /** every node → the switch it is measured from (its index in topo.switches) and the hops to it; -1 for a host with no link */
  at: Map<string, { sw: number; off: 0 | 1 }>;
  /** per switch, its switch neighbours' indices (one entry per parallel link is harmless) */
  adjacent: number[][];
  /** per source switch, hops to every switch (UNREACHABLE when none), filled on first use */
  vectors: Array<Int32Array | undefined>;
}

// Keyed by the topology object, so the geometry dies with its topology.
const geometries = new WeakMap<Topology, Geometry>();

function geometryOf(topo: Topology): Geometry {
  let g = geometries.get(topo);
  if (g) return g;
  const swIndex = new Map(topo.switches.map((s, i) => [s, i]));
  const at = new Map<string, { sw: number; off: 0 | 1 }>();
  const adjacent = topo.switches.map(() => [] as number[]);
  for (const [s, i] of swIndex) at.set(s, { sw: i, off: 0 });
  for (const h of topo.hosts) {
    const link = portsOf(topo, h).find((p) => p !== undefined);
    at.set(h, { sw: link ? (swIndex.get(link.peer) ?? -1) : -1, off: 1 });
  }
  for (const l of topo.links) {
    const a = swIndex.get(l.a);
    const b = swIndex.get(l.b);
    if (a !== undefined && b !== undefined) adjacent[a]!.push(b), adjacent[b]!.push(a);
  }
  g = { at, adjacent, vectors: new Array(topo.switches.length) };
  geometries.set(topo, g);
  return g;
}

function vectorFrom(g: Geometry, source: number): Int32Array {
  const cached = g.vectors[source];
  if (cached) return cached;
  const dist = new Int32Array(g.adjacent.length).fill(UNREACHABLE);
  const queue = new Int32Array(g.adjacent.length);
  dist[source] = 0;
  queue[0] = source;
  for (let head = 0, tail = 1; head < tail; head++) {
    const here = queue[head]!;
    for (const next of g.adjacent[here]!) {
      if (dist[next] === UNREACHABLE) {
        dist[next] = dist[here]! + 1;
        queue[tail++] = next;
      }
    }
  }
  g.vectors[source] = dist;
  return dist;
}

function placeOf(topo: Topology, g: Geometry, name: string): { sw: number; off: 0 | 1 } {
  const p = g.at.get(name);
  if (!p) nodeByName(topo, name); // throws naming it
  return p!;
}

/** Links on a shortest path from a to b; Infinity when b is unreachable. */
export function hopDistance(topo: Topology, a: string, b: string): number {
  const g = geometryOf(topo);
  const pa = placeOf(topo, g, a);
  const pb = placeOf(topo, g, b);
  if (a === b) return 0;
  if (pa.sw < 0 || pb.sw < 0) return Infinity;
  const d = vectorFrom(g, pb.sw)[pa.sw]!;
  return d === UNREACHABLE ? Infinity : d + pa.off + pb.off;
}

/**
 * Hop distance from `source` to every node reachable from it. Built on each call (O(nodes)),
 * not cached: callers that need a few distances should ask hopDistance.
 */
export function distancesFrom(topo: Topology, source: string): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const n of topo.nodes) {
    const d = hopDistance(topo, source, n.name);
    if (d !== Infinity) out.set(n.name, d);
  }
  return out;
}

/** The ports of switch `s`, ascending, whose neighbour is one hop closer to `target`: an ECMP group. */
export function nextHopPorts(topo: Topology, s: string, target: string): number[] {
  const here = hopDistance(topo, s, target);
  if (here === Infinity || here === 0) return [];
  const ports: number[] = [];
  for (const p of portsOf(topo, s)) if (p !== undefined && hopDistance(topo, p.peer, target) === here - 1) ports.push(p.port);
  return ports; // portsOf is in port order, so already ascending
}

/**
 * For one switch and every host: its equal-cost next hops (nextHopPorts). Hosts behind the
 * same switch share one list (every shortest path to a host passes its switch), so the work
 * is per attachment switch, not per host. Empty when the host is unreachable.
 */
export function equalCostNextHopsFrom(topo: Topology, s: string): Map<string, number[]> {
  const g = geometryOf(topo);
  const viaSwitch = new Map<number, number[]>();
  const out = new Map<string, number[]>();
  for (const host of topo.hosts) {
    const att = g.at.get(host)!.sw;
    const attName = att >= 0 ? topo.switches[att]! : undefined;
    if (attName === undefined) out.set(host, []);
    else if (attName === s) out.set(host, nextHopPorts(topo, s, host)); // the host's own port
    else {
      let ports = viaSwitch.get(att);
      if (!ports) viaSwitch.set(att, (ports = nextHopPorts(topo, s, attName)));
      out.set(host, ports);
    }
  }
  return out;
}

/**
 * For every switch and every host: equalCostNextHopsFrom. A switch × host table (10 million
 * entries for a fat-tree k = 32): for small topologies and tests; the routing controller asks
 * one switch at a time.
 */
export function equalCostNextHops(topo: Topology): Map<string, Map<string, number[]>> {
  return new Map(topo.switches.map((s) => [s, equalCostNextHopsFrom(topo, s)]));
}

/**
 * Switches that minimise the largest hop distance to the given hosts, in Topology.switches
 * order: for hosts under one leaf, that leaf; across leaves, every spine; across fat-tree pods,
 * every core. A natural place to aggregate for that group.
 */
export function lowestCommonAncestors(topo: Topology, hosts: string[]): string[] {
  if (hosts.length === 0) throw new Error('lowestCommonAncestors needs at least one host');
  for (const h of hosts) {
    if (findNode(topo, h)?.role !== 'host') throw new Error(`"${h}" is not a host of this topology`);
  }
  const g = geometryOf(topo);
  // a host is one hop below its switch, so the distinct switches of the hosts decide
  const attachments = [...new Set(hosts.map((h) => g.at.get(h)!.sw))];
  const vectors = attachments.map((a) => (a >= 0 ? vectorFrom(g, a) : undefined));
  let best = Infinity;
  let chosen: string[] = [];
  topo.switches.forEach((s, i) => {
    let worst = 0;
    for (const v of vectors) {
      const d = v ? v[i]! : UNREACHABLE;
      worst = Math.max(worst, d === UNREACHABLE ? Infinity : d + 1);
    }
    if (worst < best) {
      best = worst;
      chosen = [s];
    } else if (worst === best && worst !== Infinity) {
      chosen.push(s);
    }
  });
  return chosen;
}
