/**
 * A tiny Mininet-like builder: declare switches, hosts and links, get an immutable Topology.
 *
 *   new TopologyBuilder('custom').addSwitch('s0').addHost('h0').addLink('h0', 's0', 'host-switch').build()
 *
 * Port numbering is the one rule everything else relies on: each node's ports are numbered
 * from 0 in the order its links are added. The generators (star, leaf-spine, fat-tree) add
 * host links first, then uplinks, so host ports on a switch are 0..hostsPerSwitch-1.
 *
 * build() rejects what would make forwarding ambiguous: duplicate names, self-loops, two links
 * between the same pair (a port "toward a neighbour" must be unique), hosts without exactly one
 * link, host-to-host links, duplicate addresses.
 */
import { planAddresses } from './address-plan.js';
import type { LinkSpec, NodeSpec, NodeTier, Topology, TopologyKind } from './types.js';

export type SwitchTier = Exclude<NodeTier, 'host'>;

export interface SwitchOptions {
  /** explicit loopback; default 10.255.0.<i+1> by switch order */
  address?: number;
  /** network address of the /24 for this switch's hosts; default by order (address-plan.ts) */
  hostSubnet?: number;
}

export interface HostOptions {
  /** explicit address; default the switch's subnet + port rank + 1 */
  address?: number;
}

interface PendingNode {
  name: string;
  tier: NodeTier;
  opts: SwitchOptions & HostOptions;
  ports: number;
}

export class TopologyBuilder {
  private readonly nodes = new Map<string, PendingNode>();
  private readonly links: LinkSpec[] = [];
  private readonly pairs = new Set<string>();

  constructor(private readonly kind: TopologyKind = 'custom') {}

  addSwitch(name: string, tier: SwitchTier = 'switch', opts: SwitchOptions = {}): this {
    this.addNode(name, tier, opts);
    return this;
  }

  addHost(name: string, opts: HostOptions = {}): this {
    this.addNode(name, 'host', opts);
    return this;
  }

  /** Joins a and b; `a` should be the lower endpoint (host side), `tier` the report tier key. */
  addLink(a: string, b: string, tier: string): this {
    const na = this.mustGet(a);
    const nb = this.mustGet(b);
    if (a === b) throw new Error(`link from "${a}" to itself`);
    if (na.tier === 'host' && nb.tier === 'host') throw new Error(`link between hosts "${a}" and "${b}"`);
    const pair = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
    if (this.pairs.has(pair)) throw new Error(`second link between "${a}" and "${b}"`);
    for (const n of [na, nb]) {
      if (n.tier === 'host' && n.ports > 0) throw new Error(`host "${n.name}" already has its one link`);
    }
    this.pairs.add(pair);
    this.links.push({ a, aPort: na.ports++, b, bPort: nb.ports++, tier });
    return this;
  }

  build(): Topology {
    const pending = [...this.nodes.values()];
    const switches = pending.filter((n) => n.tier !== 'host');
    const hosts = pending.filter((n) => n.tier === 'host');
    for (const h of hosts) if (h.ports !== 1) throw new Error(`host "${h.name}" has no link`);

    // Hosts per switch in the switch's port order, which is link order.
    const hostsBySwitch = new Map<string, string[]>();
    for (const l of this.links) {
      const [host, sw] = this.nodes.get(l.a)!.tier === 'host' ? [l.a, l.b] : this.nodes.get(l.b)!.tier === 'host' ? [l.b, l.a] : [];
      if (!host || !sw) continue;
      const list = hostsBySwitch.get(sw) ?? [];
      list.push(host);
      hostsBySwitch.set(sw, list);
    }
    const addresses = planAddresses({
      switches: switches.map((s) => ({ name: s.name, address: s.opts.address, hostSubnet: s.opts.hostSubnet })),
      hosts: hosts.map((h) => ({ name: h.name, address: h.opts.address })),
      hostsBySwitch,
    });

    const nodes: NodeSpec[] = pending.map((n) => ({
      name: n.name,
      role: n.tier === 'host' ? 'host' : 'switch',
      tier: n.tier,
      address: addresses.get(n.name)!,
      ports: n.ports,
    }));
    const tierKeys: string[] = [];
    for (const l of this.links) if (!tierKeys.includes(l.tier)) tierKeys.push(l.tier);
    return {
      kind: this.kind,
      nodes,
      links: this.links.map((l) => ({ ...l })),
      hosts: hosts.map((h) => h.name),
      switches: switches.map((s) => s.name),
      tierKeys,
    };
  }

  private addNode(name: string, tier: NodeTier, opts: SwitchOptions & HostOptions): void {
    if (name.length === 0) throw new Error('node name must not be empty');
    if (this.nodes.has(name)) throw new Error(`duplicate node name "${name}"`);
    this.nodes.set(name, { name, tier, opts, ports: 0 });
  }

  private mustGet(name: string): PendingNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`link names unknown node "${name}"`);
    return n;
  }
}
