/**
 * Hop-count geometry of a topology: what ECMP-style routing needs (the set of equal-cost next
 * hops per switch and destination host) and what the aggregation manager needs (a switch close
 * to all members of a group).
 *
 * Every link costs one hop. Hosts have exactly one link (the builder enforces it), so no
 * shortest path ever transits a host. Cost: one BFS per source, O(V + E); distances are cached
 * per topology and source.
 */
import { findNode, nodeByName, portsOf, type Topology } from './types.js';

const distanceCache = new WeakMap<Topology, Map<string, Map<string, number>>>();

/** Hop distance from `source` to every node reachable from it. */
export function distancesFrom(topo: Topology, source: string): ReadonlyMap<string, number> {
  nodeByName(topo, source);
  let perTopo = distanceCache.get(topo);
  if (!perTopo) {
    perTopo = new Map();
    distanceCache.set(topo, perTopo);
  }
  const cached = perTopo.get(source);
  if (cached) return cached;
  const dist = new Map<string, number>([[source, 0]]);
  const queue = [source];
  for (let head = 0; head < queue.length; head++) {
    const here = queue[head]!;
    const d = dist.get(here)! + 1;
    for (const p of portsOf(topo, here)) {
      // a port without a link (a topology with links taken out) leads nowhere
      if (p !== undefined && !dist.has(p.peer)) {
        dist.set(p.peer, d);
        queue.push(p.peer);
      }
    }
  }
  perTopo.set(source, dist);
  return dist;
}

/** Links on a shortest path from a to b; Infinity when b is unreachable. */
export function hopDistance(topo: Topology, a: string, b: string): number {
  nodeByName(topo, b);
  return distancesFrom(topo, a).get(b) ?? Infinity;
}

/**
 * For every switch and every host: the switch's ports, ascending, whose neighbour is one hop
 * closer to the host, i.e. every port that lies on some shortest path. An ECMP group is exactly
 * this list. Empty when the host is unreachable.
 */
export function equalCostNextHops(topo: Topology): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const s of topo.switches) out.set(s, new Map());
  for (const host of topo.hosts) {
    const dist = distancesFrom(topo, host);
    for (const s of topo.switches) {
      const here = dist.get(s);
      const ports: number[] = [];
      if (here !== undefined) {
        for (const p of portsOf(topo, s)) if (p !== undefined && dist.get(p.peer) === here - 1) ports.push(p.port);
      }
      out.get(s)!.set(host, ports); // portsOf is in port order, so already ascending
    }
  }
  return out;
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
  const dists = hosts.map((h) => distancesFrom(topo, h));
  let best = Infinity;
  let chosen: string[] = [];
  for (const s of topo.switches) {
    let worst = 0;
    for (const d of dists) worst = Math.max(worst, d.get(s) ?? Infinity);
    if (worst < best) {
      best = worst;
      chosen = [s];
    } else if (worst === best && worst !== Infinity) {
      chosen.push(s);
    }
  }
  return chosen;
}
