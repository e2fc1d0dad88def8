import type { Fabric } from '../../src/run/fabric.js';
import { nodeByName } from '../../src/topology/types.js';
import { percentile, round, type LinkReport } from '../../src/report/types.js';
import { FLOW_OFF_DATA, FLOW_MSS, flowFrames } from '../../src/wire/flow.js';

/**
 * The metrics of the load-balancing literature for the `flows` workload: FCT slowdown against
 * the ideal FCT on an idle fabric, summaries per size bin, link utilisation and queues, uplink
 * imbalance, and the balls-into-bins expectation ECMP's imbalance is checked against.
 */

export interface Summary {
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

export function summarize(xs: readonly number[], digits = 3): Summary {
  const mean = xs.length === 0 ? 0 : xs.reduce((s, v) => s + v, 0) / xs.length;
  return { mean: round(mean, digits), p50: round(percentile(xs, 50), digits), p95: round(percentile(xs, 95), digits), p99: round(percentile(xs, 99), digits) };
}

/** Size bins of the flow-size literature, by the size drawn from the distribution (unscaled). */
export const SIZE_BINS = [
  { name: '<100KB', lo: 0, hi: 100_000 },
  { name: '100KB-1MB', lo: 100_000, hi: 1_000_000 },
  { name: '>1MB', lo: 1_000_000, hi: Infinity },
] as const;

export function binOf(drawnBytes: number): string {
  return SIZE_BINS.find((b) => drawnBytes >= b.lo && drawnBytes < b.hi)!.name;
}

/** One direction of a link on a path: its rate (Gbit/s, 0 = unshaped) and propagation delay. */
export interface Hop {
  rateGbps: number;
  delayUs: number;
}

/**
 * Every shortest path between two hosts over the links that are up, as lists of hops. In a
 * leaf-spine that is one path per spine (fewer with links down); in a fat-tree(k) at most (k/2)^2.
 */
export function hostPaths(fabric: Fabric, src: string, dst: string): Hop[][] {
  const adj = new Map<string, Array<{ peer: string; hop: Hop }>>();
  for (const l of fabric.links) {
    if (l.down) continue;
    const hop: Hop = { rateGbps: l.config.rateGbps, delayUs: l.config.delayUs };
    if (!adj.has(l.spec.a)) adj.set(l.spec.a, []);
    if (!adj.has(l.spec.b)) adj.set(l.spec.b, []);
    adj.get(l.spec.a)!.push({ peer: l.spec.b, hop });
    adj.get(l.spec.b)!.push({ peer: l.spec.a, hop });
  }
  // distances to dst; hosts are never transited (they have one link)
  const dist = new Map<string, number>([[dst, 0]]);
  const queue = [dst];
  for (let h = 0; h < queue.length; h++) {
    const here = queue[h]!;
    if (here !== dst && nodeByName(fabric.topology, here).role === 'host') continue;
    for (const { peer } of adj.get(here) ?? []) {
      if (!dist.has(peer)) {
        dist.set(peer, dist.get(here)! + 1);
        queue.push(peer);
      }
    }
  }
  const out: Hop[][] = [];
  if (!dist.has(src)) return out;
  const walk = (node: string, hops: Hop[]): void => {
    if (node === dst) {
      out.push(hops);
      return;
    }
    const d = dist.get(node)!;
    for (const { peer, hop } of adj.get(node) ?? []) if (dist.get(peer) === d - 1) walk(peer, [...hops, hop]);
  };
  walk(src, []);
  return out;
}

/**
 * The FCT of a flow of `size` bytes alone on an idle path, until its last byte arrives: the
 * first frame crosses every hop store-and-forward, the rest follow at the bottleneck's rate
 * (exact for equal frames; FLOW_MSS frames plus headers, as the workload sends them).
 */
export function idealFctNs(size: number, path: readonly Hop[]): number {
  const frames = flowFrames(size);
  const first = FLOW_OFF_DATA + Math.min(size, FLOW_MSS);
  const total = frames * FLOW_OFF_DATA + size;
  let t = 0;
  let slowest = Infinity; // bytes per ns
  for (const h of path) {
    t += h.delayUs * 1000;
    if (h.rateGbps > 0) {
      const bpns = h.rateGbps / 8;
      t += first / bpns;
      if (bpns < slowest) slowest = bpns;
    }
  }
  if (slowest < Infinity) t += (total - first) / slowest;
  return t;
}

/** The best ideal FCT over the equal-cost paths (an idle fabric would let a flow take the best). */
export function bestIdealFctNs(size: number, paths: readonly (readonly Hop[])[]): number {
  let best = Infinity;
  for (const p of paths) best = Math.min(best, idealFctNs(size, p));
  return best === Infinity ? 0 : best;
}

/** FCT over ideal FCT, at least 1 (a flow can't beat the idle fabric; 1 when ideal is 0). */
export function slowdown(fctNs: number, idealNs: number): number {
  if (!(idealNs > 0)) return 1;
  return Math.max(1, fctNs / idealNs);
}

/**
 * Link counters come from the run's link reports (ctx.linkReports(): topology link order, as
 * fabric.links), read before and after; static facts (rate, tier, down) from fabric.links. In a
 * multi-process run only the leader's reports cover every link (a host node reads its own ports
 * and sees zeros elsewhere): these never throw on either, and the leader's figures are the ones
 * reported.
 */
const bytesOf = (r: LinkReport | undefined, dir: 'ab' | 'ba'): number => r?.bytes[dir] ?? 0;

export interface LinkLoad {
  a: string;
  b: string;
  /** bytes carried during the run, per direction */
  bytes: { ab: number; ba: number };
  /** bytes × 8 / (rate × duration); null for an unshaped (rate 0) or cut link */
  utilization: { ab: number | null; ba: number | null };
  /** the deepest the egress queue of each direction has been (since the fabric was built) */
  maxQueueBytes: { ab: number; ba: number };
  down?: true;
}

export function linkLoads(fabric: Fabric, before: readonly LinkReport[], after: readonly LinkReport[], durationNs: number): LinkLoad[] {
  return fabric.links.map((l, i) => {
    const ab = bytesOf(after[i], 'ab') - bytesOf(before[i], 'ab');
    const ba = bytesOf(after[i], 'ba') - bytesOf(before[i], 'ba');
    const util = (bytes: number): number | null =>
      l.down || l.config.rateGbps === 0 || durationNs <= 0 ? null : round((bytes * 8) / (l.config.rateGbps * durationNs), 4);
    return {
      a: l.spec.a,
      b: l.spec.b,
      bytes: { ab, ba },
      utilization: { ab: util(ab), ba: util(ba) },
      maxQueueBytes: { ab: after[i]?.maxQueueBytes.ab ?? 0, ba: after[i]?.maxQueueBytes.ba ?? 0 },
      ...(l.down ? { down: true as const } : {}),
    };
  });
}

/** The deepest switch egress queue in the fabric (host NIC queues are the hosts' business). */
export function maxSwitchQueueBytes(fabric: Fabric, reports: readonly LinkReport[]): number {
  let m = 0;
  fabric.links.forEach((l, i) => {
    const r = reports[i];
    if (r === undefined) return;
    if (nodeByName(fabric.topology, l.spec.a).role === 'switch') m = Math.max(m, r.maxQueueBytes.ab);
    if (nodeByName(fabric.topology, l.spec.b).role === 'switch') m = Math.max(m, r.maxQueueBytes.ba);
  });
  return m;
}

export interface LeafUplinks {
  /** bytes sent up each uplink (link order), during the run */
  bytes: number[];
  /** max over mean of those bytes (1 = perfectly even) */
  imbalance: number;
}

/**
 * Per edge switch (leaf, or fat-tree edge: a switch with hosts), the bytes it sent on each of
 * its uplinks that is up, and max/mean of them. Uplinks are links whose lower end (a) is the
 * switch and upper end a switch.
 */
export function uplinkBytes(fabric: Fabric, before: readonly LinkReport[], after: readonly LinkReport[]): Record<string, LeafUplinks> {
  const topo = fabric.topology;
  const out: Record<string, LeafUplinks> = {};
  for (const s of topo.switches) {
    const hasHosts = fabric.links.some((l) => l.spec.b === s && nodeByName(topo, l.spec.a).role === 'host');
    if (!hasHosts) continue;
    const bytes: number[] = [];
    fabric.links.forEach((l, i) => {
      if (l.spec.a === s && !l.down && nodeByName(topo, l.spec.b).role === 'switch') bytes.push(bytesOf(after[i], 'ab') - bytesOf(before[i], 'ab'));
    });
    if (bytes.length === 0) continue;
    const mean = bytes.reduce((a, b) => a + b, 0) / bytes.length;
    out[s] = { bytes, imbalance: mean > 0 ? round(Math.max(...bytes) / mean, 4) : 0 };
  }
  return out;
}

/** The mean of the leaves' imbalance over leaves that sent anything up (0 when none did). */
export function meanImbalance(leaves: Record<string, LeafUplinks>): number {
  const xs = Object.values(leaves).filter((l) => l.imbalance > 0).map((l) => l.imbalance);
  return xs.length === 0 ? 0 : round(xs.reduce((a, b) => a + b, 0) / xs.length, 4);
}

/**
 * E[max load] / (F / P) when F balls fall uniformly at random into P bins: the imbalance a
 * perfect hash gives F equal long flows over P equal paths. Exact, from the multinomial:
 * E[max] = Σ_{c>=0} (1 - P(every bin <= c)), P(every bin <= c) = F!/P^F · [x^F] (Σ_{j<=c} x^j/j!)^P.
 */
export function ballsIntoBinsImbalance(F: number, P: number): number {
  if (F <= 0 || P <= 0) return 0;
  if (P === 1) return 1;
  let logFact = 0;
  for (let i = 2; i <= F; i++) logFact += Math.log(i);
  const allAtMost = (c: number): number => {
    const term = new Float64Array(F + 1);
    let f = 1;
    for (let j = 0; j <= Math.min(c, F); j++) {
      if (j > 0) f *= j;
      term[j] = 1 / f;
    }
    let poly = new Float64Array(F + 1);
    poly[0] = 1;
    for (let b = 0; b < P; b++) {
      const next = new Float64Array(F + 1);
      for (let i = 0; i <= F; i++) {
        if (poly[i] === 0) continue;
        for (let j = 0; j <= c && i + j <= F; j++) next[i + j] += poly[i]! * term[j]!;
      }
      poly = next;
    }
    return Math.exp(Math.log(poly[F]!) + logFact - F * Math.log(P));
  };
  let eMax = 0;
  for (let c = 0; c < F; c++) eMax += 1 - allAtMost(c);
  return eMax / (F / P);
}
