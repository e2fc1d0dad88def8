import type { Fabric } from '../../src/run/fabric.js';
import { hookKey } from '../../src/run/hooks.js';
import { formatAddress } from '../../src/topology/address-plan.js';
import type { TreePlan } from '../../src/topology/aggregation-manager.js';
import { HEADER_BYTES } from '../../src/wire/common-header.js';
import { PROTO_SHARP, SHARP_HEADER_BYTES } from '../../src/wire/sharp.js';
import type { AlgorithmFactory } from './collective.js';
import { withBlame } from './aggregation-blame.js';
import {
  defaultTuning, firstRttEstimate, linkExtremes, StreamingAggregationJob, windowFor, withRttFloor, type AggregationHooks, type SwitchmlTuning,
} from './aggregation-client.js';

/**
 * The worker of a SHARP-style aggregation tree (pipelines/sharp.ts): the same streaming worker
 * as SwitchML's (hosts/allreduce/aggregation-client.ts), except that each worker sends its updates to its
 * own leaf/edge switch, the bottom of the job's tree, and takes the results from it. The
 * aggregation manager builds the tree (leaf/edge switches reduce their local workers, partials
 * go up to the root, results are multicast back down) and reserves the window on every switch
 * of it; when it cannot, the factory throws its AggregationUnavailableError and
 * hosts/allreduce/allreduce.ts runs the job on the ring instead (ATP-style fallback).
 *
 * The window. A tree link carries one stream of this job (each child has its own link to its
 * parent), so the queue bound (windowFor) is the one of a single stream. The pool is shared by
 * every job on a switch, so a job does not take more than it needs to keep its links busy:
 * 4 × the bandwidth-delay product of the tree's longest path in frames (propagation plus one
 * frame's serialization per hop), at least SHARP_MIN_WINDOW; unshaped links have no
 * bandwidth-delay product, so there only the pool and queue bounds apply (or SHARP_MIN_WINDOW
 * when they have no delay either, where the window changes nothing but event order). A job
 * runs in-network with as little as a quarter of the window it wants (minSlots), first come
 * first served; below that it falls back.
 */

/** Test hooks (RunOptions.hooks, under SHARP_HOOKS) of a job on its tree. */
export type SharpHooks = AggregationHooks<TreePlan>;
export const SHARP_HOOKS = hookKey<SharpHooks>('sharp');

export const SHARP_MIN_WINDOW = 32;

/** The window a tree job asks for (see the module comment); `height` is worker-to-root hops. */
export function sharpWindow(fabric: Fabric, height: number, pool: number, packets: number, elementsPerPacket: number, maxWindow = Infinity): number {
  const bounded = windowFor(fabric, 1, pool, packets, elementsPerPacket, maxWindow);
  const { delayNs, rateGbps } = linkExtremes(fabric);
  let bdp: number;
  if (Number.isFinite(rateGbps)) {
    const frameNs = ((HEADER_BYTES + SHARP_HEADER_BYTES + 4 * elementsPerPacket) * 8) / rateGbps;
    const rtt = 2 * height * (delayNs + frameNs);
    bdp = Math.max(SHARP_MIN_WINDOW, Math.ceil((4 * rtt) / frameNs));
  } else {
    bdp = delayNs > 0 ? Infinity : SHARP_MIN_WINDOW;
  }
  return Math.max(1, Math.min(bounded, bdp));
}

export const createSharp: AlgorithmFactory = async (o) => {
  const fabric = o.ctx.fabric;
  const names = o.workers.map((w) => w.name);
  const manager = fabric.aggregation;
  const epp = o.aggregation.elementsPerPacket;
  const packets = Math.ceil(o.length / epp);
  const hooks = o.ctx.hooks?.get(SHARP_HOOKS) ?? {};
  const base: SwitchmlTuning = { ...defaultTuning(o.ctx.clock.kind), ...hooks.tuning };
  // Once, by the leader's controller (the only copy that sees the switches' pools and writes
  // their state); every copy gets the plan.
  const plan = await o.ctx.cluster.atLeader(`sharp job ${o.jobId}: allocate tree`, () => {
    // every root candidate gives a tree of the same height: the window can be sized before choosing
    const { tree } = manager.treePlacement(names, o.aggregation.slots);
    const want = sharpWindow(fabric, tree.height, o.aggregation.slots, packets, epp, base.maxWindow);
    return manager.allocateTree(names, { jobId: o.jobId, slots: want, minSlots: Math.max(1, Math.ceil(want / 4)), elementsPerPacket: epp });
  });
  const tuning = withRttFloor(base, firstRttEstimate(fabric, plan.height, 1, plan.slotCount, epp));
  let job: StreamingAggregationJob;
  try {
    job = new StreamingAggregationJob(
      {
        algorithm: 'sharp',
        protocol: PROTO_SHARP,
        jobId: plan.jobId,
        window: plan.slotCount,
        elementsPerPacket: plan.elementsPerPacket,
        upstream: plan.upstream.map((u) => u.address),
        label: `sharp job ${plan.jobId} (tree rooted at ${plan.root})`,
        deadMessage: (rank, host, slot, packet, retries, d) => {
          const up = plan.upstream[rank]!;
          return withBlame(
            `sharp job ${plan.jobId}: the tree rooted at ${plan.root} did not answer ${host} on slot ${slot} (packet ${packet}) ` +
              `after ${retries} retransmissions to ${up.switch} (${formatAddress(up.address)})`,
            {
              fabric, switchName: up.switch, slot, ver: d.ver, packet, host, lastResultNs: d.lastResultNs, nowNs: d.nowNs,
              level: (name) => {
                const sp = plan.switches.find((x) => x.name === name);
                return sp && { slotBase: sp.slotBase, members: sp.children.map((c) => c.name), parent: sp.parent };
              },
            },
          );
        },
        onCallComplete: (iteration) => hooks.onCallComplete?.(plan, fabric, iteration),
        onCallFailed: (iteration, error) => hooks.onCallFailed?.(plan, fabric, iteration, error),
        // Only the leader's controller holds the tree (see switchml-client.ts).
        release: () => void (o.ctx.cluster.isLeader && manager.releaseTree(plan)),
        onRelease: () => hooks.onRelease?.(plan, fabric),
        info: { root: plan.root, switches: plan.switches.map((s) => s.name), height: plan.height, window: plan.slotCount },
      },
      o.workers,
      tuning,
      o.ctx.cluster.isLocal,
    );
  } catch (e) {
    manager.releaseTree(plan);
    throw e;
  }
  hooks.onAllocate?.(plan, fabric);
  return job;
};
