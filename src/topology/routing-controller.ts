import type { ControlPlane, Update } from '../pipeline/control-plane.js';
import type { ResourceSummary } from '../pipeline/resources.js';
import { equalCostNextHopsFrom, nextHopPorts } from './shortest-paths.js';
import { attachmentOf, nodeByName, portsOf, type Topology } from './types.js';
import { hostPrefix } from './address-plan.js';

// The names shared with the programs live with the wire format (src/wire/names/forwarding.ts).
export { FORWARD_ACTION, ROUTE_KEY, ROUTE_TABLE, SOURCE_GUARD_COUNTER, SOURCE_GUARD_REGISTER } from '../wire/names/forwarding.js';
import { FORWARD_ACTION, ROUTE_KEY, ROUTE_TABLE, SOURCE_GUARD_REGISTER } from '../wire/names/forwarding.js';

/** What the controller needs of a switch: its control plane and what its program declares. */
export interface Programmable {
  readonly name: string;
  readonly controlPlane: ControlPlane<any>;
  resources(): ResourceSummary;
}

export interface RouteStats {
  routes: number;
  groups: number;
  members: number;
}

/**
 * An SDN-style routing controller: computes every switch's equal-cost next hops to every host
 * and installs them through P4Runtime-style writes. A route covers a whole edge switch's /24
 * when all its hosts share the same next hops, else one /32 per host. Where the program's
 * route table is implemented by an action selector, multi-path routes point at a group of
 * members (one per port); otherwise a single next hop is chosen, spread by destination.
 */
export function installRoutes(topo: Topology, switches: ReadonlyMap<string, Programmable>, only?: (name: string) => boolean): Map<string, RouteStats> {
  // `only`: the switches to route (a process of a multi-process run holds some of them; each
  // process routes its own, the same way); without it every switch must be there
  const stats = new Map<string, RouteStats>();
  for (const name of topo.switches) {
    if (only && !only(name)) continue;
    const sw = switches.get(name);
    if (!sw) throw new Error(`routing controller: no switch ${name}`);
    const table = sw.resources().tables.find((t) => t.name === ROUTE_TABLE);
    if (!table) throw new Error(`routing controller: program on ${name} has no ${ROUTE_TABLE} table`);
    const selector = table.selector;
    // one switch at a time: a switch × host table for a fat-tree k = 32 has 10 million entries
    const byHost = equalCostNextHopsFrom(topo, name);

    // Group destination hosts by the switch they hang off: one prefix per edge switch.
    const byEdge = new Map<string, string[]>();
    for (const h of topo.hosts) {
      const edge = attachmentOf(topo, h).switch;
      if (!byEdge.has(edge)) byEdge.set(edge, []);
      byEdge.get(edge)!.push(h);
    }
    const routes: Array<{ value: number; prefixLen: number; ports: number[] }> = [];
    for (const [edge, hosts] of byEdge) {
      const sets = hosts.map((h) => byHost.get(h) ?? []);
      const same = sets.every((s) => s.join(',') === sets[0]!.join(','));
      if (edge !== name && same && sets[0]!.length > 0) {
        const p = hostPrefix(topo, edge);
        routes.push({ value: p.value, prefixLen: p.prefixLen, ports: sets[0]! });
      } else {
        hosts.forEach((h, i) => {
          if (sets[i]!.length > 0) routes.push({ value: nodeByName(topo, h).address, prefixLen: 32, ports: sets[i]! });
        });
      }
    }

    // Switch loopbacks: in-network services (an aggregation switch) are addressed by them.
    for (const target of topo.switches) {
      if (target === name) continue;
      const ports = nextHopPorts(topo, name, target);
      if (ports.length > 0) routes.push({ value: nodeByName(topo, target).address, prefixLen: 32, ports });
    }

    const updates: Update[] = [];
    // Source guard: the controller knows which host is behind which port.
    if (sw.resources().registers.some((r) => r.name === SOURCE_GUARD_REGISTER)) {
      for (const pp of portsOf(topo, name)) {
        // (a cut link leaves a hole in the port list)
        if (pp === undefined) continue;
        const peer = nodeByName(topo, pp.peer);
        if (peer.role === 'host') updates.push({ type: 'MODIFY', entity: { kind: 'registerEntry', register: SOURCE_GUARD_REGISTER, index: pp.port, value: peer.address } });
      }
    }
    const members = new Set<number>();
    const groups = new Map<string, number>();
    const memberOf = (port: number): number => {
      const id = port + 1;
      if (!members.has(id)) {
        members.add(id);
        updates.push({ type: 'INSERT', entity: { kind: 'actionProfileMember', profile: selector!, memberId: id, action: { name: FORWARD_ACTION, params: { port } } } });
      }
      return id;
    };
    routes.forEach((r, i) => {
      const match = { [ROUTE_KEY]: { kind: 'lpm' as const, value: r.value, prefixLen: r.prefixLen } };
      if (selector) {
        if (r.ports.length === 1) {
          updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: ROUTE_TABLE, match, memberId: memberOf(r.ports[0]!) } });
          return;
        }
        const key = r.ports.join(',');
        let groupId = groups.get(key);
        if (groupId === undefined) {
          groupId = groups.size + 1;
          groups.set(key, groupId);
          const ms = r.ports.map((port) => ({ memberId: memberOf(port) }));
          updates.push({ type: 'INSERT', entity: { kind: 'actionProfileGroup', profile: selector, groupId, members: ms } });
        }
        updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: ROUTE_TABLE, match, groupId } });
      } else {
        // Static single-path routing: spread destinations over the equal-cost ports.
        const port = r.ports[i % r.ports.length]!;
        updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: ROUTE_TABLE, match, action: { name: FORWARD_ACTION, params: { port } } } });
      }
    });
    sw.controlPlane.write(updates);
    stats.set(name, { routes: routes.length, groups: groups.size, members: members.size });
  }
  return stats;
}
