import type { Topology } from '../topology/types.js';

/**
 * Where each link endpoint lives when every node is its own process.
 *
 * Two plans:
 * - `loopback`: every endpoint on 127.0.0.1, one UDP port per endpoint (base + 2·link + side).
 *   Processes on one machine, no namespaces.
 * - `links`: every link its own small IPv4 subnet (a veth pair in a namespace, a Docker network,
 *   a containerlab link), one address per endpoint, the same UDP port everywhere. The subnet is
 *   a /29 so Docker can take .1 as the network's gateway: a is .2, b is .3.
 */
export const DATA_PORT = 4791;
export const LINK_PREFIX = 29;
const LINK_BASE = (10 << 24) | (100 << 16); // 10.100.0.0
const LINK_BLOCK = 8;
export const MAX_LINKS = (1 << 16) / LINK_BLOCK;

export type Addressing =
  | { kind: 'loopback'; basePort: number }
  | { kind: 'links' }
  /** every link end where an address map file puts it (see address-map.ts): [link][0 = a, 1 = b] */
  | { kind: 'map'; file: string; byLink: ReadonlyArray<readonly [UdpAddress, UdpAddress]> };

export interface LinkSubnet {
  /** CIDR, e.g. 10.100.0.8/29 */
  readonly subnet: string;
  /** the first usable address (Docker's network gateway) */
  readonly gateway: string;
  /** the endpoint of the link's `a` node */
  readonly a: string;
  /** the endpoint of the link's `b` node */
  readonly b: string;
}

export interface UdpAddress {
  readonly host: string;
  readonly port: number;
}

function dotted(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** The subnet of link `index` (the topology's link order) under the `links` plan. */
export function linkSubnet(index: number): LinkSubnet {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_LINKS) throw new Error(`link index ${index} outside 0..${MAX_LINKS - 1}`);
  const base = (LINK_BASE + index * LINK_BLOCK) >>> 0;
  return { subnet: `${dotted(base)}/${LINK_PREFIX}`, gateway: dotted(base + 1), a: dotted(base + 2), b: dotted(base + 3) };
}

/**
 * Fabrics built at once for one run (a workload comparing load-balancing schemes gets one per
 * scheme next to the scenario's; see variantNumbers in src/run/runner.ts) are told apart by UDP
 * port: fabric `variant` (0 = the scenario's) uses DATA_PORT + variant, or on loopback (and in
 * address maps) its own block of 2·links ports.
 */
/** The UDP address of one side of link `index` ('a' or 'b', as the topology names them). */
export function endpointAddress(addressing: Addressing, index: number, side: 'a' | 'b', variant = 0, links = 0): UdpAddress {
  if (addressing.kind === 'loopback') return { host: '127.0.0.1', port: addressing.basePort + 2 * links * variant + 2 * index + (side === 'a' ? 0 : 1) };
  if (addressing.kind === 'map') {
    const at = addressing.byLink[index]?.[side === 'a' ? 0 : 1];
    if (!at) throw new Error(`address map ${addressing.file}: no address for side ${side} of link ${index}`);
    // a scheme's fabric takes the port 2·links·variant above the mapped one, as on loopback
    return { host: at.host, port: at.port + 2 * links * variant };
  }
  const s = linkSubnet(index);
  return { host: side === 'a' ? s.a : s.b, port: DATA_PORT + variant };
}

/** The links a node terminates: the link index, its side, its port number and the peer. */
export function linksOf(topology: Topology, node: string): Array<{ index: number; side: 'a' | 'b'; port: number; peer: string; peerPort: number }> {
  const out: Array<{ index: number; side: 'a' | 'b'; port: number; peer: string; peerPort: number }> = [];
  topology.links.forEach((l, index) => {
    if (l.a === node) out.push({ index, side: 'a', port: l.aPort, peer: l.b, peerPort: l.bPort });
    if (l.b === node) out.push({ index, side: 'b', port: l.bPort, peer: l.a, peerPort: l.aPort });
  });
  return out;
}

/**
 * Why loopback ports from `basePort` cannot hold `links` links in `fabrics` fabrics (2 ports per
 * link and fabric, all at most 65535), or undefined when they fit: checked before any port is
 * printed or bound, since a port past 65535 is not a port.
 */
export function loopbackRangeProblem(basePort: number, links: number, fabrics: number): string | undefined {
  const count = 2 * links * fabrics;
  const last = basePort + count - 1;
  if (last <= 65535) return undefined;
  const highest = 65536 - count;
  const fit = highest >= 1 ? `the highest base port that fits is ${highest}` : 'no base port fits';
  return `loopback:${basePort} needs ports ${basePort}..${last} (2 × ${links} links × ${fabrics} fabric${fabrics === 1 ? '' : 's'}), past 65535; ${fit}`;
}
