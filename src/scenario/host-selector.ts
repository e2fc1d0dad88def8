/**
 * `workers` / `ranks`: `all` | N (the first N hosts, in topology order) | [h0, h5, ...].
 * One resolver so the checks and the runner agree on who takes part.
 */
import type { Topology } from '../topology/types.js';
import type { HostSelector } from './schema.js';

/** The selected host names, in selection order; throws on a selection the topology cannot meet. */
export function resolveHosts(selector: HostSelector, topo: Topology): string[] {
  if (selector === 'all') return [...topo.hosts];
  if (typeof selector === 'number') {
    if (selector > topo.hosts.length) throw new Error(`${selector} hosts selected, topology has ${topo.hosts.length}`);
    return topo.hosts.slice(0, selector);
  }
  const hosts = new Set(topo.hosts);
  for (const name of selector) if (!hosts.has(name)) throw new Error(`"${name}" is not a host of this topology`);
  return [...selector];
}
