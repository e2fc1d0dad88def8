/**
 * What a fabric costs in heap before any workload runs, estimated from its shape, so a scenario
 * too large for this process is refused at load time (exit 2) with the figures, rather than
 * running for minutes and dying with "JavaScript heap out of memory".
 *
 * Two things dominate, both measured (`node --expose-gc`, heap after Fabric.build in sim):
 *  - routes: the routing controller gives every switch a route per host-facing switch and
 *    per other switch's loopback, so about switches × (host-facing switches + switches)
 *    entries, ~700 bytes each with their match keys and action-profile members (fat-tree
 *    k = 16: 143 k routes, 106 MB; k = 20: 350 k routes, 246 MB);
 *  - hosts: a host stack and its link's two shaped ports, ~8 KiB (leaf-spine with 16,256
 *    hosts and 66 switches: 128 MB).
 * A fat-tree k = 32 (1,280 switches, 8,192 hosts) comes to 1.7 GB and runs (2.6 GB resident);
 * k = 40 (5.6 M routes) would need 4 GB.
 */
import { getHeapStatistics } from 'node:v8';
import type { Topology } from './types.js';

const BYTES_PER_ROUTE = 700;
const BYTES_PER_HOST = 8 * 1024;
/** the share of the heap a fabric may take: the workload, its frames and the GC need the rest */
export const FABRIC_HEAP_SHARE = 0.5;

export interface FabricMemoryEstimate {
  routes: number;
  bytes: number;
}

export function estimateFabricMemory(topo: Topology): FabricMemoryEstimate {
  const hosts = new Set(topo.hosts);
  const hostFacing = new Set<string>();
  for (const l of topo.links) {
    if (hosts.has(l.a)) hostFacing.add(l.b);
    else if (hosts.has(l.b)) hostFacing.add(l.a);
  }
  const routes = topo.switches.length * (hostFacing.size + topo.switches.length);
  return { routes, bytes: routes * BYTES_PER_ROUTE + topo.hosts.length * BYTES_PER_HOST };
}

/** The heap this process may use (node's --max-old-space-size, or its default). */
export function heapLimitBytes(): number {
  return getHeapStatistics().heap_size_limit;
}

export function describeGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
