import type { Fabric } from '../../src/run/fabric.js';
import { hookKey } from '../../src/run/hooks.js';
import { formatAddress } from '../../src/topology/address-plan.js';
import type { JobPlan, Placement } from '../../src/topology/aggregation-manager.js';
import { hopDistance } from '../../src/topology/shortest-paths.js';
import { PROTO_SWITCHML } from '../../src/wire/protocols.js';
import type { AlgorithmFactory } from './collective.js';
import { withBlame } from './aggregation-blame.js';
import {
  defaultTuning, firstRttEstimate, StreamingAggregationJob, windowFor, withRttFloor, type AggregationHooks, type SwitchmlTuning,
} from './aggregation-client.js';

export { defaultTuning, quantizationBound, type SwitchmlTuning } from './aggregation-client.js';

/**
 * SwitchML's worker (Sapio et al., NSDI'21), for pipelines/switchml.ts: every worker streams
 * its tensor to one aggregation switch, the workers' lowest common ancestor chosen by the
 * aggregation manager, and takes the sums back from it. The streaming, block floating point,
 * retransmission and RTO machinery is hosts/allreduce/aggregation-client.ts (shared with the SHARP tree
 * client); this file places the job and binds it to that switch.
 */

/** Test hooks (RunOptions.hooks, under SWITCHML_HOOKS) of a job on its aggregator. */
export type SwitchmlHooks = AggregationHooks<JobPlan>;
export const SWITCHML_HOOKS = hookKey<SwitchmlHooks>('switchml');

/** The window (see windowFor): `place.fanIn` streams share the aggregator's busiest link. */
export function chooseWindow(fabric: Fabric, place: Placement, pool: number, packets: number, elementsPerPacket: number, maxWindow = Infinity): number {
  return windowFor(fabric, place.fanIn, pool, packets, elementsPerPacket, maxWindow);
}

export const createSwitchml: AlgorithmFactory = async (o) => {
  const fabric = o.ctx.fabric;
  const names = o.workers.map((w) => w.name);
  const manager = fabric.aggregation;
  const epp = o.aggregation.elementsPerPacket;
  const packets = Math.ceil(o.length / epp);
  const hooks = o.ctx.hooks?.get(SWITCHML_HOOKS) ?? {};
  const base: SwitchmlTuning = { ...defaultTuning(o.ctx.clock.kind), ...hooks.tuning };
  const place = manager.placement(names);
  const window = chooseWindow(fabric, place, o.aggregation.slots, packets, epp, base.maxWindow);
  // Once, by the leader's controller (the only copy that writes switch state); every copy gets the plan.
  const plan = await o.ctx.cluster.atLeader(`switchml job ${o.jobId}: allocate`, () => manager.allocate(names, { jobId: o.jobId, slots: window, elementsPerPacket: epp }));
  let depth = 0;
  for (const h of o.workers) depth = Math.max(depth, hopDistance(fabric.topology, h.name, place.aggregator));
  const tuning = withRttFloor(base, firstRttEstimate(fabric, depth, place.fanIn, window, epp));
  let job: StreamingAggregationJob;
  try {
    job = new StreamingAggregationJob(
      {
        algorithm: 'switchml',
        protocol: PROTO_SWITCHML,
        jobId: plan.jobId,
        window: plan.slotCount,
        elementsPerPacket: plan.elementsPerPacket,
        upstream: o.workers.map(() => plan.aggregatorAddress),
        label: `switchml job ${plan.jobId} on ${plan.aggregator}`,
        deadMessage: (_rank, host, slot, packet, retries, d) =>
          withBlame(
            `switchml job ${plan.jobId}: ${host}'s packet ${packet} on slot ${slot} got no result from aggregator ${plan.aggregator} ` +
              `(${formatAddress(plan.aggregatorAddress)}) after ${retries} retransmissions`,
            {
              fabric, switchName: plan.aggregator, slot, ver: d.ver, packet, host, lastResultNs: d.lastResultNs, nowNs: d.nowNs,
              level: (name) => (name === plan.aggregator ? { slotBase: plan.slotBase, members: plan.workers, parent: null } : undefined),
            },
          ),
        onCallComplete: (iteration) => hooks.onCallComplete?.(plan, fabric, iteration),
        onCallFailed: (iteration, error) => hooks.onCallFailed?.(plan, fabric, iteration, error),
        // Only the leader's controller holds the job (and writes the switches); a release is not
        // a collective step, so it happens even when another copy of the workload has failed.
        release: () => void (o.ctx.cluster.isLeader && manager.release(plan)),
        onRelease: () => hooks.onRelease?.(plan, fabric),
        info: { aggregator: plan.aggregator, window: plan.slotCount },
      },
      o.workers,
      tuning,
      o.ctx.cluster.isLocal,
    );
  } catch (e) {
    manager.release(plan);
    throw e;
  }
  hooks.onAllocate?.(plan, fabric);
  return job;
};
