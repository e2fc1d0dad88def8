import type { ProgramBuilder } from '../../src/pipeline/program.js';
import { LB_STATS_COUNTER, type LoadBalancer } from './load-balancing/scheme.js';
import { flowletBalancer } from './load-balancing/flowlet.js';
import { drillBalancer } from './load-balancing/drill.js';
import { congaBalancer } from './load-balancing/conga.js';

export * from './load-balancing/scheme.js';
export { DEFAULT_FLOWLET_GAP_US, FLOWLET_ENTRIES, FlowletTable } from './load-balancing/flowlet-table.js';
export { DRILL_DEFAULTS, DRILL_MEMORY_GROUPS, drillOptions } from './load-balancing/drill.js';
export {
  CONGA_AGE_NS, CONGA_ALPHA, CONGA_LEAVES, CONGA_NOMINAL_GBPS, CONGA_TAGS_PER_LEAF, CONGA_T_DRE_NS, CONGA_TAU_NS, congaLeafOf,
} from './load-balancing/conga.js';

/**
 * The load-balancing stages a forwarding program can end with. Every scheme chooses among the
 * members of the ECMP group the routing controller installed for the packet's route (the
 * action-selector group of `ipv4_lpm`): those are the candidate ports, and nothing else is ever
 * chosen. ecmp hashes the 5-tuple (lib/forwarding.ts); the others are stateful and choose the
 * member themselves (the selector hash returns the index of their choice), one file each in
 * load-balancing/:
 *
 * - flowlet (LetFlow, Vanini et al., NSDI 2017): a flowlet table in registers keyed by a hash of
 *   the 5-tuple; a packet arriving more than `flowletGapUs` after the previous packet of its
 *   entry starts a new flowlet on a uniformly random member.
 * - drill (DRILL(d, m), Ghorbani et al., SIGCOMM 2017): per packet, the least loaded (egress
 *   queue bytes) of d random members and the m least loaded remembered from the last decision.
 * - conga (Alizadeh et al., SIGCOMM 2014): a discounting rate estimator per port, a congestion
 *   field max-updated at every hop, leaf-to-leaf feedback piggybacked on reverse traffic, and a
 *   flowlet-level choice of the uplink minimising max(local DRE, remote path metric).
 */
export const LOAD_BALANCING_KINDS = ['ecmp', 'flowlet', 'drill', 'conga'] as const;
export type LoadBalancingKind = (typeof LOAD_BALANCING_KINDS)[number];

/** The scheme named by a switch's options (`loadBalancing`, default ecmp). */
export function loadBalancingOf(options: Readonly<Record<string, unknown>>): LoadBalancingKind {
  const v = options.loadBalancing ?? 'ecmp';
  if (typeof v !== 'string' || !(LOAD_BALANCING_KINDS as readonly string[]).includes(v)) {
    throw new Error(`loadBalancing must be one of ${LOAD_BALANCING_KINDS.join(', ')}, got ${String(v)}`);
  }
  return v as LoadBalancingKind;
}

/** The stateful balancer of a scheme; null for ecmp (a plain hash selector). */
export function createLoadBalancer<M>(p: ProgramBuilder<M>, kind: LoadBalancingKind): LoadBalancer<M> | null {
  if (kind === 'ecmp') return null;
  const env = p.env;
  const stats = p.counter(LB_STATS_COUNTER, 3, 'packets');
  switch (kind) {
    case 'flowlet':
      return flowletBalancer(p, env, stats);
    case 'drill':
      return drillBalancer(p, env, stats);
    case 'conga':
      return congaBalancer(p, env, stats);
  }
}
