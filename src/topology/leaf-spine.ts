/**
 * Two-tier Clos: `leaf{i}` (i < leaves), `spine{j}` (j < spines), every leaf linked to every
 * spine, `hostsPerLeaf` hosts under each leaf, numbered leaf-major (h0..h{H-1} under leaf0).
 *
 * Ports (links are added in exactly this order, which fixes the numbering):
 *   leaf{i}   0..H-1        hosts h{i*H} .. h{i*H+H-1}
 *             H+j           spine{j}
 *   spine{j}  i             leaf{i}
 * Addresses: leaf{i}'s hosts are 10.0.{i}.0/24, host n under it .{n+1}.
 */
import { hostSubnet, MAX_HOSTS_PER_SUBNET } from './address-plan.js';
import { TopologyBuilder } from './builder.js';
import type { Topology } from './types.js';

export const LEAF_SPINE_TIERS = ['host-leaf', 'leaf-spine'] as const;

/** 10.0.<leaf>.0/24 gives 256 leaf subnets */
export const MAX_LEAVES = 256;
export const MAX_SPINES = 256;

export function leafSpineTopology(leaves: number, spines: number, hostsPerLeaf: number): Topology {
  check('leaves', leaves, MAX_LEAVES);
  check('spines', spines, MAX_SPINES);
  check('hostsPerLeaf', hostsPerLeaf, MAX_HOSTS_PER_SUBNET);
  const b = new TopologyBuilder('leaf-spine');
  for (let i = 0; i < leaves; i++) b.addSwitch(`leaf${i}`, 'leaf', { hostSubnet: hostSubnet(0, i) });
  for (let j = 0; j < spines; j++) b.addSwitch(`spine${j}`, 'spine');
  for (let i = 0; i < leaves; i++) {
    for (let h = 0; h < hostsPerLeaf; h++) {
      const host = `h${i * hostsPerLeaf + h}`;
      b.addHost(host).addLink(host, `leaf${i}`, LEAF_SPINE_TIERS[0]);
    }
  }
  for (let i = 0; i < leaves; i++) {
    for (let j = 0; j < spines; j++) b.addLink(`leaf${i}`, `spine${j}`, LEAF_SPINE_TIERS[1]);
  }
  return b.build();
}

function check(what: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`leaf-spine ${what} must be 1..${max}, got ${n}`);
}
