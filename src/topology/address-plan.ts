/**
 * Address plan: every node gets a 32-bit address inside 10.0.0.0/8 so that routing can be
 * programmed the way a real fabric is, with one longest-prefix entry per host-facing switch
 * instead of one per host.
 *
 *   hosts      each host-facing switch (star switch, leaf, edge) owns a /24 for its hosts:
 *                star       10.0.0.0/24
 *                leaf-spine 10.0.<leaf>.0/24
 *                fat-tree   10.<pod>.<edge>.0/24
 *                custom     10.<j >> 8>.<j & 255>.0/24, j = rank among host-facing switches
 *              hosts are numbered inside it from .1 in the switch's port order, so the host on
 *              switch port p (host ports come first) is .<p+1>.
 *   switches   loopbacks in 10.255.0.0/16: the i-th switch of Topology.switches is
 *              10.255.0.0 + i + 1 (10.255.0.1, 10.255.0.2, ...).
 *
 * Addresses are plain unsigned numbers (`>>> 0`) so they can be keys, table fields and wire
 * fields without conversion.
 */
import { hostsOf, nodeByName, type Topology } from './types.js';

export interface Prefix {
  /** network address, host bits zero */
  value: number;
  prefixLen: number;
}

export const HOST_NETWORK: Prefix = { value: 0x0a000000, prefixLen: 8 };
export const LOOPBACK_NETWORK: Prefix = { value: 0x0aff0000, prefixLen: 16 };
/** a /24 holds .1 .. .254; .0 is the network and .255 the broadcast address */
export const MAX_HOSTS_PER_SUBNET = 254;
/** loopbacks .0.1 .. .255.254 of 10.255.0.0/16 */
export const MAX_SWITCHES = 65534;

export function formatAddress(n: number): string {
  const v = n >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Dotted quad → unsigned 32-bit number; throws on anything else. */
export function parseAddress(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) throw new Error(`expected an IPv4 address like 10.0.1.2, got "${s}"`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new Error(`expected an IPv4 address like 10.0.1.2, got "${s}"`);
  return (((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0);
}

export function prefixMask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

export function prefixContains(prefix: Prefix, address: number): boolean {
  const mask = prefixMask(prefix.prefixLen);
  return ((address & mask) >>> 0) === ((prefix.value & mask) >>> 0);
}

export function formatPrefix(prefix: Prefix): string {
  return `${formatAddress(prefix.value)}/${prefix.prefixLen}`;
}

/** The /24 10.a.b.0 (a: pod or 0, b: edge or leaf index). */
export function hostSubnet(a: number, b: number): number {
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || a > 254 || b < 0 || b > 255) {
    // a = 255 would land in the switch loopback range
    throw new RangeError(`host subnet 10.${a}.${b}.0/24 is outside the plan`);
  }
  return (0x0a000000 | (a << 16) | (b << 8)) >>> 0;
}

/** The subnet a host-facing switch gets when its builder did not choose one. */
export function defaultHostSubnet(rank: number): number {
  return hostSubnet(rank >>> 8, rank & 255);
}

export function switchLoopback(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_SWITCHES) {
    throw new RangeError(`switch index ${index} does not fit the 10.255.0.0/16 loopback range`);
  }
  return (LOOPBACK_NETWORK.value + index + 1) >>> 0;
}

export interface AddressRequest {
  switches: { name: string; address?: number; hostSubnet?: number }[];
  hosts: { name: string; address?: number }[];
  /** per switch, its attached hosts in port order */
  hostsBySwitch: Map<string, string[]>;
}

/**
 * Fills in every address not chosen explicitly and checks the result is unique.
 * The builder calls this; it is exported for tests and for custom topologies.
 */
export function planAddresses(req: AddressRequest): Map<string, number> {
  const out = new Map<string, number>();
  req.switches.forEach((s, i) => out.set(s.name, s.address ?? switchLoopback(i)));
  const explicitHost = new Map(req.hosts.map((h) => [h.name, h.address]));
  let rank = 0;
  for (const s of req.switches) {
    const attached = req.hostsBySwitch.get(s.name) ?? [];
    if (attached.length === 0) continue;
    const subnet = s.hostSubnet ?? defaultHostSubnet(rank);
    rank++;
    attached.forEach((host, j) => {
      const explicit = explicitHost.get(host);
      if (explicit !== undefined) {
        out.set(host, explicit);
        return;
      }
      if (j >= MAX_HOSTS_PER_SUBNET) {
        throw new RangeError(`switch "${s.name}" has more than ${MAX_HOSTS_PER_SUBNET} hosts; its /24 is full`);
      }
      out.set(host, (subnet + j + 1) >>> 0);
    });
  }
  for (const h of req.hosts) {
    if (!out.has(h.name)) throw new Error(`host "${h.name}" is not attached to any switch`);
  }
  const seen = new Map<number, string>();
  for (const [name, addr] of out) {
    const other = seen.get(addr);
    if (other !== undefined) throw new Error(`"${name}" and "${other}" would share address ${formatAddress(addr)}`);
    seen.set(addr, name);
  }
  return out;
}

/**
 * The /24 holding the hosts attached to a host-facing switch: what a routing controller
 * installs as one LPM entry toward that switch.
 */
export function hostPrefix(topo: Topology, edgeSwitchName: string): Prefix {
  const node = nodeByName(topo, edgeSwitchName);
  if (node.role !== 'switch') throw new Error(`"${edgeSwitchName}" is a host, not a switch`);
  const hosts = hostsOf(topo, edgeSwitchName);
  if (hosts.length === 0) throw new Error(`switch "${edgeSwitchName}" has no hosts attached`);
  const value = (nodeByName(topo, hosts[0]!).address & prefixMask(24)) >>> 0;
  const prefix = { value, prefixLen: 24 };
  for (const h of hosts) {
    if (!prefixContains(prefix, nodeByName(topo, h).address)) {
      throw new Error(`hosts of "${edgeSwitchName}" do not share one /24 (see ${h})`);
    }
  }
  return prefix;
}

/** Every host-facing switch's prefix, in Topology.switches order. */
export function hostPrefixes(topo: Topology): Map<string, Prefix> {
  const out = new Map<string, Prefix>();
  for (const s of topo.switches) if (hostsOf(topo, s).length > 0) out.set(s, hostPrefix(topo, s));
  return out;
}
