/**
 * k-ary fat-tree (Al-Fares et al., SIGCOMM 2008): k pods, each with k/2 edge and k/2 agg
 * switches, (k/2)^2 cores, k/2 hosts per edge: k^3/4 hosts, 5k^2/4 switches, 3k^3/4 links.
 *
 * Names: core{m} (m < (k/2)^2), agg{p}_{i}, edge{p}_{i} (p < k, i < k/2), hosts h{n} numbered
 * pod-major then edge-major: h{n} with n = p*(k/2)^2 + i*(k/2) + j is host j of edge{p}_{i}.
 * Wiring: agg{p}_{i} connects to cores i*(k/2) .. i*(k/2)+k/2-1, so core{m} reaches pod p
 * through agg{p}_{floor(m/(k/2))}.
 *
 * Ports, with h = k/2 (downlinks first by index of the lower node, then uplinks by index of
 * the upper node):
 *   edge{p}_{i}  0..h-1   hosts (host j on port j)      h+a    agg{p}_{a}
 *   agg{p}_{a}   e        edge{p}_{e}                    h+c    core{a*h+c}
 *   core{m}      p        agg{p}_{floor(m/h)}
 * Addresses: edge{p}_{i}'s hosts are 10.{p}.{i}.0/24, host j .{j+1}.
 */
import { hostSubnet } from './address-plan.js';
import { TopologyBuilder } from './builder.js';
import type { Topology } from './types.js';

export const FAT_TREE_TIERS = ['host-edge', 'edge-agg', 'agg-core'] as const;

/** keeps pods within 10.0-254.x.x and switches within the loopback range, with room to spare */
export const MAX_FAT_TREE_K = 64;

export function fatTreeTopology(k: number): Topology {
  if (!Number.isInteger(k) || k < 2 || k % 2 !== 0 || k > MAX_FAT_TREE_K) {
    throw new RangeError(`fat-tree k must be an even integer in 2..${MAX_FAT_TREE_K}, got ${k}`);
  }
  const h = k / 2;
  const b = new TopologyBuilder('fat-tree');
  // Switches bottom-up, so Topology.switches (and loopbacks) run edge, agg, core.
  for (let p = 0; p < k; p++) for (let i = 0; i < h; i++) b.addSwitch(`edge${p}_${i}`, 'edge', { hostSubnet: hostSubnet(p, i) });
  for (let p = 0; p < k; p++) for (let i = 0; i < h; i++) b.addSwitch(`agg${p}_${i}`, 'agg');
  for (let m = 0; m < h * h; m++) b.addSwitch(`core${m}`, 'core');

  for (let p = 0; p < k; p++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < h; j++) {
        const host = `h${p * h * h + i * h + j}`;
        b.addHost(host).addLink(host, `edge${p}_${i}`, FAT_TREE_TIERS[0]);
      }
    }
  }
  for (let p = 0; p < k; p++) {
    for (let e = 0; e < h; e++) for (let a = 0; a < h; a++) b.addLink(`edge${p}_${e}`, `agg${p}_${a}`, FAT_TREE_TIERS[1]);
  }
  for (let p = 0; p < k; p++) {
    for (let a = 0; a < h; a++) for (let c = 0; c < h; c++) b.addLink(`agg${p}_${a}`, `core${a * h + c}`, FAT_TREE_TIERS[2]);
  }
  return b.build();
}
