/**
 * Star: one switch `s0` with hosts `h0..h{N-1}`. Host h{i} is on s0's port i, so the port
 * numbering equals the host numbering; hosts live in 10.0.0.0/24 (h{i} = 10.0.0.{i+1}).
 */
import { hostSubnet, MAX_HOSTS_PER_SUBNET } from './address-plan.js';
import { TopologyBuilder } from './builder.js';
import type { Topology } from './types.js';

export const STAR_TIER = 'host-switch';

export function starTopology(hosts: number): Topology {
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > MAX_HOSTS_PER_SUBNET) {
    throw new RangeError(`star needs 1..${MAX_HOSTS_PER_SUBNET} hosts, got ${hosts}`);
  }
  const b = new TopologyBuilder('star').addSwitch('s0', 'switch', { hostSubnet: hostSubnet(0, 0) });
  for (let i = 0; i < hosts; i++) b.addHost(`h${i}`).addLink(`h${i}`, 's0', STAR_TIER);
  return b.build();
}
