import { linkReportOf, type Fabric } from '../run/fabric.js';
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
  return topology.links.map((l, i) => linkReportOf(l, ab[i]!, ba[i]!));
}

/** Switch reports in the topology's switch order. */
export function orderSwitchReports(topology: Topology, reports: readonly SwitchReport[]): SwitchReport[] {
  const by = new Map(reports.map((r) => [r.name, r]));
  return topology.switches.flatMap((n) => (by.has(n) ? [by.get(n)!] : []));
}
