/**
 * The shape of a fabric, as plain data: nodes, the links between their numbered ports, and the
 * tier each link belongs to (the tier names are the report's `tierBytes` keys).
 *
 * A Topology is built once (see builder.ts) and never mutated afterwards; the lookup helpers
 * below index it lazily and cache the index per object, so they are cheap to call in loops.
 */

export type NodeRole = 'host' | 'switch';

/** Where a node sits; `switch` is the lone switch of a star and of custom topologies. */
export type NodeTier = 'host' | 'switch' | 'leaf' | 'spine' | 'edge' | 'agg' | 'core';

export type TopologyKind = 'star' | 'leaf-spine' | 'fat-tree' | 'custom';

export interface NodeSpec {
  name: string;
  role: NodeRole;
  tier: NodeTier;
  /** 32-bit node address, unsigned (see address-plan.ts) */
  address: number;
  /** port count; ports are numbered 0..ports-1 without gaps */
  ports: number;
}

export interface LinkSpec {
  /** the lower endpoint (the host, or the switch nearer to the hosts) */
  a: string;
  aPort: number;
  /** the upper endpoint */
  b: string;
  bPort: number;
  /** report tier key, e.g. "host-leaf" */
  tier: string;
}

export interface Topology {
  kind: TopologyKind;
  /** every node, hosts and switches, in the order they were added */
  nodes: NodeSpec[];
  links: LinkSpec[];
  /** host names in order (h0, h1, ...) */
  hosts: string[];
  /** switch names in order (lower tiers first) */
  switches: string[];
  /** tier keys bottom-up, e.g. ["host-leaf", "leaf-spine"] */
  tierKeys: string[];
}

/* The generators' parameters, as the scenario's topology section normalises them. */
export interface StarSpec {
  kind: 'star';
  hosts: number;
}
export interface LeafSpineSpec {
  kind: 'leaf-spine';
  leaves: number;
  spines: number;
  hostsPerLeaf: number;
}
export interface FatTreeSpec {
  kind: 'fat-tree';
  k: number;
}
export type TopologySpec = StarSpec | LeafSpineSpec | FatTreeSpec;

/** One end of a link as seen from a node: the port here, and who is on the other side. */
export interface PortPeer {
  port: number;
  peer: string;
  peerPort: number;
  link: LinkSpec;
}

interface TopologyIndex {
  byName: Map<string, NodeSpec>;
  /** per node, its ports in port order (index = port number) */
  ports: Map<string, PortPeer[]>;
}

// Keyed by the topology object itself so indexes die with their topology.
const indexes = new WeakMap<Topology, TopologyIndex>();

function indexOf(topo: Topology): TopologyIndex {
  let index = indexes.get(topo);
  if (index) return index;
  const byName = new Map<string, NodeSpec>();
  const ports = new Map<string, PortPeer[]>();
  for (const node of topo.nodes) {
    byName.set(node.name, node);
    ports.set(node.name, []);
  }
  for (const link of topo.links) {
    ports.get(link.a)![link.aPort] = { port: link.aPort, peer: link.b, peerPort: link.bPort, link };
    ports.get(link.b)![link.bPort] = { port: link.bPort, peer: link.a, peerPort: link.aPort, link };
  }
  index = { byName, ports };
  indexes.set(topo, index);
  return index;
}

export function findNode(topo: Topology, name: string): NodeSpec | undefined {
  return indexOf(topo).byName.get(name);
}

/** The node named `name`; throws if there is none (a programming error, not bad input). */
export function nodeByName(topo: Topology, name: string): NodeSpec {
  const node = findNode(topo, name);
  if (!node) throw new Error(`topology has no node named "${name}"`);
  return node;
}

/** The node's ports in port order; entry i is port i. */
export function portsOf(topo: Topology, name: string): readonly PortPeer[] {
  nodeByName(topo, name);
  return indexOf(topo).ports.get(name)!;
}

/** The links touching a node, in the node's port order. */
export function linksOf(topo: Topology, name: string): LinkSpec[] {
  return portsOf(topo, name).map((p) => p.link);
}

/** Who is at the far end of `node`'s `port`. */
export function neighbourAt(topo: Topology, node: string, port: number): { node: string; port: number } {
  const p = portsOf(topo, node)[port];
  if (!p) throw new Error(`node "${node}" has no port ${port}`);
  return { node: p.peer, port: p.peerPort };
}

/** The port of `node` that faces `neighbour`; throws if they are not adjacent. */
export function portToward(topo: Topology, node: string, neighbour: string): number {
  const p = portsOf(topo, node).find((q) => q.peer === neighbour);
  if (!p) throw new Error(`"${node}" has no link to "${neighbour}"`);
  return p.port;
}

export function areAdjacent(topo: Topology, a: string, b: string): boolean {
  return findNode(topo, a) !== undefined && portsOf(topo, a).some((q) => q.peer === b);
}

/** The switch a host hangs off, and the switch's port toward the host. */
export function attachmentOf(topo: Topology, host: string): { switch: string; port: number } {
  const node = nodeByName(topo, host);
  if (node.role !== 'host') throw new Error(`"${host}" is a switch, not a host`);
  const [only] = portsOf(topo, host);
  if (!only) throw new Error(`host "${host}" has no link`);
  return { switch: only.peer, port: only.peerPort };
}

/** Hosts directly attached to a switch, in the switch's port order. */
export function hostsOf(topo: Topology, switchName: string): string[] {
  const idx = indexOf(topo);
  return portsOf(topo, switchName)
    .filter((p) => idx.byName.get(p.peer)!.role === 'host')
    .map((p) => p.peer);
}
