/**
 * The one entry point from a scenario's (normalised) topology section to a Topology, so the
 * scenario checks, the runner and the report all see the same nodes.
 */
import { fatTreeTopology } from './fat-tree.js';
import { leafSpineTopology } from './leaf-spine.js';
import { starTopology } from './star.js';
import type { Topology, TopologySpec } from './types.js';

export function buildTopology(spec: TopologySpec): Topology {
  switch (spec.kind) {
    case 'star':
      return starTopology(spec.hosts);
    case 'leaf-spine':
      return leafSpineTopology(spec.leaves, spec.spines, spec.hostsPerLeaf);
    case 'fat-tree':
      return fatTreeTopology(spec.k);
  }
}

/** How many hosts a spec yields, without building it. */
export function hostCount(spec: TopologySpec): number {
  switch (spec.kind) {
    case 'star':
      return spec.hosts;
    case 'leaf-spine':
      return spec.leaves * spec.hostsPerLeaf;
    case 'fat-tree':
      return (spec.k * spec.k * spec.k) / 4;
  }
}
