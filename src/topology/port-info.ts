import type { PortInfo } from '../pipeline/program.js';
import { nodeByName, portsOf, type Topology } from './types.js';

/** What a switch target knows of its ports: which face hosts (edge ports), and each one's line rate. */
export function portInfoOf(topo: Topology, name: string, rateGbps: (port: number) => number): PortInfo[] {
  const info = Array.from({ length: nodeByName(topo, name).ports }, (): PortInfo => ({ facesHost: false, rateGbps: 0 }));
  for (const pp of portsOf(topo, name)) {
    // (a node's port list may have holes where no link is attached)
    if (pp !== undefined) info[pp.port] = { facesHost: nodeByName(topo, pp.peer).role === 'host', rateGbps: rateGbps(pp.port) };
  }
  return info;
}
