/**
 * The aggregation manager: the SDN controller for in-network aggregation jobs. Per job it picks
 * the aggregation switch, reserves a contiguous range of that switch's aggregator slots, and
 * installs (and later removes) the job's state, only through the switch's control-plane API in
 * P4Runtime's vocabulary, never by reaching into a table or register.
 *
 * Where to aggregate: the lowest common ancestor of the job's workers (lowestCommonAncestors in
 * shortest-paths.ts), the switch whose largest hop distance to any worker is smallest. A round
 * on a slot completes only when the LAST worker's contribution arrives and the result returns,
 * so the round time is set by the farthest worker; the LCA minimises exactly that. It also puts
 * the aggregation where the workers' paths first meet, so nothing of the job travels above it
 * and no link below it carries a worker's data twice (one update up, one result down per
 * worker). For workers under one leaf that is the leaf; across leaves of a leaf-spine every
 * spine is an LCA (ties: the first, in Topology.switches order; the next issue adds fallback to
 * the others); across fat-tree pods, a core. A leaf of a two-leaf job would be no better: the
 * other leaf's workers would be three hops away instead of two.
 *
 * The names below are the control-plane surface of pipelines/switchml.ts (which imports them
 * from here: src never imports pipelines).
 */
import type { Update } from '../pipeline/control-plane.js';
import type { Programmable } from './routing-controller.js';
import { distancesFrom, lowestCommonAncestors } from './shortest-paths.js';
import { formatAddress } from './address-plan.js';
import { findNode, nodeByName, portsOf, type Topology } from './types.js';

export const SML_WORKERS_TABLE = 'switchml_workers';
export const SML_WORKERS_KEY_SRC = 'hdr.common.src';
export const SML_WORKERS_KEY_JOB = 'hdr.common.dstPort';
export const SML_SET_WORKER = 'set_worker';
export const SML_RESULT_DST_TABLE = 'switchml_result_dst';
export const SML_RESULT_DST_KEY = 'std.instance';
export const SML_SET_RESULT_DST = 'set_result_dst';
export const SML_REG_VALUES = 'switchml_values';
export const SML_REG_BITMAP = 'switchml_bitmap';
export const SML_REG_COUNT = 'switchml_count';
export const SML_REG_EXPONENT = 'switchml_exponent';
export const SML_REG_OVERFLOW = 'switchml_overflow';
export const SML_REG_SEQ = 'switchml_seq';
export const SML_STATS_COUNTER = 'switchml_stats';

/** Indices of the switchml_stats counter. */
export const SML_STAT_UNKNOWN_WORKER = 0;
export const SML_STAT_BAD_SLOT = 1;
export const SML_STAT_MALFORMED = 2;
export const SML_STAT_DUPLICATE = 3;
export const SML_STAT_STALE = 4;
export const SML_STAT_AGGREGATED = 5;
export const SML_STAT_COMPLETED = 6;
export const SML_STAT_RESENT = 7;
export const SML_STAT_NAMES = ['unknownWorker', 'badSlot', 'malformed', 'duplicate', 'stale', 'aggregated', 'completed', 'resent'] as const;

/** The worker bitmap is one 32-bit register cell per slot copy. */
export const SML_MAX_WORKERS = 32;
export const SML_DEFAULT_SLOTS = 512;
export const SML_DEFAULT_ELEMENTS = 64;
/** Job ids are the frames' 16-bit dstPort. */
export const SML_MAX_JOB_ID = 0xffff;

export interface AllocateOptions {
  /** the frames' dstPort; unique among the jobs allocated at once */
  readonly jobId: number;
  /** aggregator slots wanted (the client's window) */
  readonly slots: number;
  /** must be what the switches' program was built with */
  readonly elementsPerPacket: number;
}

export interface Replica {
  readonly port: number;
  readonly instance: number;
}

export interface JobPlan {
  readonly jobId: number;
  /** the aggregation switch */
  readonly aggregator: string;
  /** its loopback address: where workers send their updates */
  readonly aggregatorAddress: number;
  readonly slotBase: number;
  readonly slotCount: number;
  readonly elementsPerPacket: number;
  readonly workers: readonly string[];
  /** worker → its bit in the slot bitmaps */
  readonly workerIndex: ReadonlyMap<string, number>;
  readonly mcastGroup: number;
  /** per worker (by index), the multicast replica that carries its results */
  readonly replicas: readonly Replica[];
}

/** Where a group of workers would aggregate, before anything is reserved. */
export interface Placement {
  readonly aggregator: string;
  readonly aggregatorAddress: number;
  /** every lowest common ancestor, in Topology.switches order (the first is chosen) */
  readonly candidates: readonly string[];
  /** per worker (in the order given): the aggregator's port toward it */
  readonly ports: readonly number[];
  /** hop distance from the aggregator to its farthest worker */
  readonly depth: number;
  /** most workers behind one aggregator port: how many streams share that link */
  readonly fanIn: number;
}

interface Pool {
  readonly slots: number;
  readonly elementsPerPacket: number;
  /** free ranges, sorted by start, never adjacent (merged on release) */
  free: Array<{ start: number; count: number }>;
  readonly groups: Set<number>;
  readonly instances: Set<number>;
}

export class AggregationManager {
  private readonly pools = new Map<string, Pool>();
  private readonly jobs = new Map<number, JobPlan>();

  constructor(
    readonly topology: Topology,
    readonly switches: ReadonlyMap<string, Programmable>,
  ) {}

  /** The aggregation switch for these workers and the ports its results leave on. */
  placement(workers: readonly string[]): Placement {
    const topo = this.topology;
    if (workers.length === 0) throw new Error('aggregation manager: a job needs at least one worker');
    const seen = new Set<string>();
    for (const w of workers) {
      if (findNode(topo, w)?.role !== 'host') throw new Error(`aggregation manager: "${w}" is not a host of this topology`);
      if (seen.has(w)) throw new Error(`aggregation manager: worker "${w}" listed twice`);
      seen.add(w);
    }
    const candidates = lowestCommonAncestors(topo, [...workers]);
    if (candidates.length === 0) throw new Error(`aggregation manager: no switch reaches all of ${workers.join(', ')}`);
    const aggregator = candidates[0]!;
    let depth = 0;
    const perPort = new Map<number, number>();
    const ports = workers.map((w) => {
      const dist = distancesFrom(topo, w);
      const here = dist.get(aggregator)!;
      depth = Math.max(depth, here);
      // the first port on a shortest path toward the worker; downstream LPM does the rest
      const p = portsOf(topo, aggregator).find((pp) => dist.get(pp.peer) === here - 1);
      if (!p) throw new Error(`aggregation manager: ${aggregator} has no port toward ${w}`);
      perPort.set(p.port, (perPort.get(p.port) ?? 0) + 1);
      return p.port;
    });
    return {
      aggregator,
      aggregatorAddress: nodeByName(topo, aggregator).address,
      candidates,
      ports,
      depth,
      fanIn: Math.max(...perPort.values()),
    };
  }

  /**
   * Reserves `slots` contiguous slots on the workers' lowest common ancestor and installs the
   * job: result-address rewrites (egress), the multicast group, then the worker table (last, so
   * no update is aggregated before its result has a way out). Throws a clear error, having
   * installed nothing, when the switch cannot take the job.
   */
  allocate(workers: readonly string[], opts: AllocateOptions): JobPlan {
    const { jobId, slots, elementsPerPacket } = opts;
    if (!Number.isInteger(jobId) || jobId < 1 || jobId > SML_MAX_JOB_ID) throw new Error(`aggregation manager: job id ${jobId} is not in 1..${SML_MAX_JOB_ID}`);
    if (this.jobs.has(jobId)) throw new Error(`aggregation manager: job ${jobId} is already allocated (on ${this.jobs.get(jobId)!.aggregator})`);
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`aggregation manager: job ${jobId}: slots must be a positive integer, got ${slots}`);
    if (workers.length > SML_MAX_WORKERS) throw new Error(`aggregation manager: job ${jobId} has ${workers.length} workers; a slot's bitmap holds at most ${SML_MAX_WORKERS}`);
    const place = this.placement(workers);
    const agg = place.aggregator;
    const pool = this.pool(agg);
    if (elementsPerPacket !== pool.elementsPerPacket) {
      throw new Error(`aggregation manager: job ${jobId} wants ${elementsPerPacket} elements per packet, but ${agg}'s program was built for ${pool.elementsPerPacket}`);
    }

    const range = pool.free.findIndex((r) => r.count >= slots);
    if (range < 0) {
      const free = pool.free.reduce((s, r) => s + r.count, 0);
      const largest = pool.free.reduce((m, r) => Math.max(m, r.count), 0);
      throw new Error(
        `aggregation manager: no ${slots} contiguous free aggregator slots on ${agg} for job ${jobId} ` +
          `(pool ${pool.slots}, ${free} free, largest free range ${largest})`,
      );
    }
    const slotBase = pool.free[range]!.start;
    const mcastGroup = smallestFree(pool.groups, 1, 0xffff, `multicast group ids on ${agg}`);
    const instances: number[] = [];
    const taken = new Set(pool.instances);
    for (let i = 0; i < workers.length; i++) {
      const id = smallestFree(taken, 1, 0xffff, `replication ids on ${agg}`);
      taken.add(id);
      instances.push(id);
    }
    const replicas = place.ports.map((port, i) => ({ port, instance: instances[i]! }));
    const plan: JobPlan = {
      jobId,
      aggregator: agg,
      aggregatorAddress: place.aggregatorAddress,
      slotBase,
      slotCount: slots,
      elementsPerPacket,
      workers: [...workers],
      workerIndex: new Map(workers.map((w, i) => [w, i])),
      mcastGroup,
      replicas,
    };

    const install = this.installUpdates(plan);
    const cp = this.switches.get(agg)!.controlPlane;
    try {
      cp.write(install);
    } catch (e) {
      // Leave nothing half-installed: undo what was applied, in reverse.
      const applied = (e as { updateIndex?: number }).updateIndex ?? 0;
      const undo = install.slice(0, applied).reverse().map((u) => ({ type: 'DELETE' as const, entity: u.entity }));
      try {
        cp.write(undo);
      } catch {
        /* best effort */
      }
      throw new Error(`aggregation manager: installing job ${jobId} on ${agg} failed: ${(e as Error).message}`);
    }

    const r = pool.free[range]!;
    if (r.count === slots) pool.free.splice(range, 1);
    else pool.free[range] = { start: r.start + slots, count: r.count - slots };
    pool.groups.add(mcastGroup);
    for (const id of instances) pool.instances.add(id);
    this.jobs.set(jobId, plan);
    return plan;
  }

  /**
   * Removes the job's entries (worker table first, so nothing more is aggregated), its group
   * and rewrites, and clears its slots' bitmaps, counters and round numbers with register
   * MODIFY updates so the next job on those slots starts clean (values, exponents and overflow
   * flags need no clearing: a round's first contribution overwrites them). Returns false when
   * the plan was not (or no longer) allocated.
   */
  release(plan: JobPlan): boolean {
    if (this.jobs.get(plan.jobId) !== plan) return false;
    const pool = this.pool(plan.aggregator);
    const install = this.installUpdates(plan);
    const updates: Update[] = install.reverse().map((u) => ({ type: 'DELETE' as const, entity: u.entity }));
    for (let c = 2 * plan.slotBase; c < 2 * (plan.slotBase + plan.slotCount); c++) {
      for (const register of [SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ]) {
        updates.push({ type: 'MODIFY', entity: { kind: 'registerEntry', register, index: c, value: 0 } });
      }
    }
    this.switches.get(plan.aggregator)!.controlPlane.write(updates);
    this.jobs.delete(plan.jobId);
    pool.groups.delete(plan.mcastGroup);
    for (const r of plan.replicas) pool.instances.delete(r.instance);
    freeRange(pool, plan.slotBase, plan.slotCount);
    return true;
  }

  /** Jobs currently allocated. */
  get active(): readonly JobPlan[] {
    return [...this.jobs.values()];
  }

  /** Free aggregator slots on a switch (all of its pool when no job uses it). */
  freeSlots(switchName: string): number {
    return this.pool(switchName).free.reduce((s, r) => s + r.count, 0);
  }

  /** Size of a switch's slot pool, from the registers its program declares. */
  poolSize(switchName: string): number {
    return this.pool(switchName).slots;
  }

  private installUpdates(plan: JobPlan): Update[] {
    const topo = this.topology;
    const updates: Update[] = [];
    plan.workers.forEach((w, i) => {
      updates.push({
        type: 'INSERT',
        entity: {
          kind: 'tableEntry',
          table: SML_RESULT_DST_TABLE,
          match: { [SML_RESULT_DST_KEY]: { kind: 'exact', value: plan.replicas[i]!.instance } },
          action: { name: SML_SET_RESULT_DST, params: { dst: nodeByName(topo, w).address } },
        },
      });
    });
    updates.push({ type: 'INSERT', entity: { kind: 'multicastGroupEntry', groupId: plan.mcastGroup, replicas: plan.replicas } });
    plan.workers.forEach((w, i) => {
      updates.push({
        type: 'INSERT',
        entity: {
          kind: 'tableEntry',
          table: SML_WORKERS_TABLE,
          match: {
            [SML_WORKERS_KEY_SRC]: { kind: 'exact', value: nodeByName(topo, w).address },
            [SML_WORKERS_KEY_JOB]: { kind: 'exact', value: plan.jobId },
          },
          action: {
            name: SML_SET_WORKER,
            params: { workerBit: i, numWorkers: plan.workers.length, mcastGroup: plan.mcastGroup, slotBase: plan.slotBase, slotCount: plan.slotCount },
          },
        },
      });
    });
    return updates;
  }

  private pool(name: string): Pool {
    const cached = this.pools.get(name);
    if (cached) return cached;
    const sw = this.switches.get(name);
    if (!sw) throw new Error(`aggregation manager: no switch ${name}`);
    const res = sw.resources();
    const count = res.registers.find((r) => r.name === SML_REG_COUNT);
    const values = res.registers.find((r) => r.name === SML_REG_VALUES);
    if (!count || !values || !res.tables.some((t) => t.name === SML_WORKERS_TABLE)) {
      throw new Error(`aggregation manager: switch ${name} (${formatAddress(nodeByName(this.topology, name).address)}) runs program ${res.program}, which cannot aggregate (needs switchml)`);
    }
    const slots = count.size / 2;
    const pool: Pool = {
      slots,
      elementsPerPacket: values.size / count.size,
      free: [{ start: 0, count: slots }],
      groups: new Set(),
      instances: new Set(),
    };
    this.pools.set(name, pool);
    return pool;
  }
}

function smallestFree(used: ReadonlySet<number>, lo: number, hi: number, what: string): number {
  for (let i = lo; i <= hi; i++) if (!used.has(i)) return i;
  throw new Error(`aggregation manager: all ${what} are in use`);
}

/** Returns a range to the free list, merging it with its neighbours. */
function freeRange(pool: Pool, start: number, count: number): void {
  const f = pool.free;
  let i = 0;
  while (i < f.length && f[i]!.start < start) i++;
  f.splice(i, 0, { start, count });
  if (i + 1 < f.length && f[i]!.start + f[i]!.count === f[i + 1]!.start) {
    f[i] = { start, count: f[i]!.count + f[i + 1]!.count };
    f.splice(i + 1, 1);
  }
  if (i > 0 && f[i - 1]!.start + f[i - 1]!.count === f[i]!.start) {
    f[i - 1] = { start: f[i - 1]!.start, count: f[i - 1]!.count + f[i]!.count };
    f.splice(i, 1);
  }
}
