import type { Fabric } from '../run/fabric.js';
import type { LinkReport, SwitchReport } from '../report/types.js';
import type { Topology } from '../topology/types.js';
import { emptyDirectionStats, type DirectionStats } from '../net/port.js';
import type { LinkSideCounters } from './messages.js';

/** This process's sides of links (the egress counters of its own ports). */
export function localLinkSides(fabric: Fabric): LinkSideCounters[] {
  const out: LinkSideCounters[] = [];
  fabric.links.forEach((l, index) => {
    if (fabric.isLocal(l.spec.a)) out.push({ index, side: 'a', stats: { ...l.ab.stats } });
    if (fabric.isLocal(l.spec.b)) out.push({ index, side: 'b', stats: { ...l.ba.stats } });
  });
  return out;
}

/** Link reports from the sides every node counted: ab from the a node, ba from the b node. */
export function mergeLinkSides(topology: Topology, sides: readonly LinkSideCounters[]): LinkReport[] {
  const ab: DirectionStats[] = topology.links.map(() => emptyDirectionStats());
  const ba: DirectionStats[] = topology.links.map(() => emptyDirectionStats());
  for (const s of sides) (s.side === 'a' ? ab : ba)[s.index] = s.stats;
  return topology.links.map((l, i) => {
    const x = ab[i]!;
    const y = ba[i]!;
    return {
      a: l.a,
      b: l.b,
      bytes: { ab: x.bytes, ba: y.bytes },
      packets: { ab: x.packets, ba: y.packets },
      drops: { ab: x.drops, ba: y.drops },
      lost: { ab: x.lost, ba: y.lost },
      ecnMarked: { ab: x.ecnMarked, ba: y.ecnMarked },
      maxQueueBytes: { ab: x.maxQueueBytes, ba: y.maxQueueBytes },
    };
  });
}

/** Bytes per tier, both directions summed, from link reports (as Fabric.tierBytes does). */
export function tierBytesOf(topology: Topology, links: readonly LinkReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of topology.tierKeys) out[k] = 0;
  topology.links.forEach((l, i) => {
    const r = links[i]!;
    out[l.tier] = (out[l.tier] ?? 0) + r.bytes.ab + r.bytes.ba;
  });
  return out;
}

/** Switch reports in the topology's switch order. */
export function orderSwitchReports(topology: Topology, reports: readonly SwitchReport[]): SwitchReport[] {
  const by = new Map(reports.map((r) => [r.name, r]));
  return topology.switches.flatMap((n) => (by.has(n) ? [by.get(n)!] : []));
}
