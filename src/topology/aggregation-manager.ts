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
 * Trees (SHARP's Aggregation Manager in spirit, allocateTree): for a job on pipelines/sharp.ts
 * the manager builds an aggregation tree (aggregation-tree.ts: every worker's leaf/edge reduces
 * its local workers, partials go up through agg/spine/core to the root, the result is
 * multicast back down the tree), reserves the same number of slots on every switch of it (each
 * switch its own contiguous range), and installs per switch: the result rewrites and multicast
 * group toward its children, an entry for its parent (results coming down) and one per child
 * (contributions going up, with the parent's address to send the partial to). Several jobs
 * share the switches' slot pools, first come first served; a job whose tree cannot get at least
 * `minSlots` slots on every switch gets an AggregationUnavailableError naming the switch (and
 * hosts/allreduce/allreduce.ts falls back to the ring, ATP-style).
 *
 * The control-plane names it shares with pipelines/switchml.ts and pipelines/sharp.ts are in
 * src/wire/names/aggregation.ts (re-exported here for older imports).
 */
import type { Update } from '../pipeline/control-plane.js';
import type { Programmable } from './routing-controller.js';
import { distancesFrom, hopDistance, lowestCommonAncestors, nextHopPorts } from './shortest-paths.js';
import { buildAggregationTree, type AggregationTree, type TreeChild } from './aggregation-tree.js';
import { formatAddress } from './address-plan.js';
import { findNode, nodeByName, portsOf, type Topology } from './types.js';

// The names shared with the programs live with the wire format (src/wire/names/aggregation.ts).
export {
  SML_WORKERS_TABLE, SML_WORKERS_KEY_SRC, SML_WORKERS_KEY_JOB, SML_SET_WORKER, SML_RESULT_DST_TABLE, SML_RESULT_DST_KEY, SML_SET_RESULT_DST, SML_REG_VALUES, SML_REG_BITMAP, SML_REG_COUNT, SML_REG_EXPONENT, SML_REG_OVERFLOW, SML_REG_SEQ, SML_STATS_COUNTER, SML_STAT_UNKNOWN_WORKER, SML_STAT_BAD_SLOT, SML_STAT_MALFORMED, SML_STAT_DUPLICATE, SML_STAT_STALE, SML_STAT_SPOOFED, SML_STAT_AGGREGATED, SML_STAT_COMPLETED, SML_STAT_RESENT, SML_STAT_NAMES, SML_DROP_REASONS, SHARP_SET_CHILD, SHARP_SET_PARENT, SHARP_REG_DONE, SHARP_STAT_PARTIAL_UP, SHARP_STAT_PARTIAL_RESENT, SHARP_STAT_RESULT_DOWN, SHARP_STAT_NAMES, SML_ANY_PORT, SML_MAX_WORKERS, SML_DEFAULT_SLOTS, SML_DEFAULT_ELEMENTS, SML_MAX_JOB_ID,
} from '../wire/names/aggregation.js';
import {
  SML_WORKERS_TABLE, SML_WORKERS_KEY_SRC, SML_WORKERS_KEY_JOB, SML_SET_WORKER, SML_RESULT_DST_TABLE, SML_RESULT_DST_KEY, SML_SET_RESULT_DST, SML_REG_VALUES, SML_REG_BITMAP, SML_REG_COUNT, SML_REG_EXPONENT, SML_REG_OVERFLOW, SML_REG_SEQ, SML_STATS_COUNTER, SML_STAT_UNKNOWN_WORKER, SML_STAT_BAD_SLOT, SML_STAT_MALFORMED, SML_STAT_DUPLICATE, SML_STAT_STALE, SML_STAT_SPOOFED, SML_STAT_AGGREGATED, SML_STAT_COMPLETED, SML_STAT_RESENT, SML_STAT_NAMES, SML_DROP_REASONS, SHARP_SET_CHILD, SHARP_SET_PARENT, SHARP_REG_DONE, SHARP_STAT_PARTIAL_UP, SHARP_STAT_PARTIAL_RESENT, SHARP_STAT_RESULT_DOWN, SHARP_STAT_NAMES, SML_ANY_PORT, SML_MAX_WORKERS, SML_DEFAULT_SLOTS, SML_DEFAULT_ELEMENTS, SML_MAX_JOB_ID,
} from '../wire/names/aggregation.js';

/**
 * The switches cannot take the job (no free slots, too many children for a bitmap): not a
 * fault, a reason to run the job elsewhere (hosts/allreduce/allreduce.ts falls back to the ring).
 */
export class AggregationUnavailableError extends Error {
  constructor(
    message: string,
    readonly jobId: number,
    /** the switch that said no */
    readonly switchName: string,
  ) {
    super(message);
    this.name = 'AggregationUnavailableError';
  }
}

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

/** One switch of an allocated tree. */
export interface TreeSwitchPlan {
  readonly name: string;
  readonly address: number;
  readonly parent: string | null;
  /** where this switch sends its partials; 0 at the root */
  readonly parentAddress: number;
  /** hops from the root */
  readonly level: number;
  readonly slotBase: number;
  readonly mcastGroup: number;
  /** index = the child's bit in this switch's bitmaps; instance = its replica in mcastGroup */
  readonly children: ReadonlyArray<TreeChild & { readonly instance: number }>;
}

export interface TreePlan {
  readonly jobId: number;
  readonly root: string;
  readonly rootAddress: number;
  /** slots reserved on every switch of the tree (the workers' window) */
  readonly slotCount: number;
  readonly elementsPerPacket: number;
  readonly workers: readonly string[];
  /** per worker (in the order given): the switch its updates go to and its results come from */
  readonly upstream: ReadonlyArray<{ readonly switch: string; readonly address: number }>;
  /** top-down, the root first */
  readonly switches: readonly TreeSwitchPlan[];
  /** hops from the farthest worker to the root */
  readonly height: number;
}

export interface AllocateTreeOptions extends AllocateOptions {
  /** the least window worth running in-network; fewer free slots than this on some switch fails (default: slots) */
  readonly minSlots?: number;
}

interface Pool {
  readonly slots: number;
  /** the program keeps tree state (pipelines/sharp.ts) */
  readonly tree: boolean;
  readonly elementsPerPacket: number;
  /** free ranges, sorted by start, never adjacent (merged on release) */
  free: Array<{ start: number; count: number }>;
  readonly groups: Set<number>;
  readonly instances: Set<number>;
}

export class AggregationManager {
  private readonly pools = new Map<string, Pool>();
  private readonly jobs = new Map<number, JobPlan>();
  private readonly trees = new Map<number, TreePlan>();

  constructor(
    readonly topology: Topology,
    readonly switches: ReadonlyMap<string, Programmable>,
    /** the links routes use (the topology without cut links): where a member's frames come in */
    readonly routed: Topology = topology,
  ) {}

  /**
   * The port of `sw` a member's frames arrive on: the one neighbour on a shortest routed path
   * from `member`, or SML_ANY_PORT when there are several (or none: then nothing arrives).
   */
  ingressPort(sw: string, member: string): number {
    const dist = distancesFrom(this.routed, member);
    const here = dist.get(sw);
    if (here === undefined) return SML_ANY_PORT;
    const ports = portsOf(this.routed, sw).filter((pp) => pp !== undefined && dist.get(pp.peer) === here - 1);
    return ports.length === 1 ? ports[0]!.port : SML_ANY_PORT;
  }

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
      depth = Math.max(depth, hopDistance(topo, w, aggregator));
      // the first port on a shortest path toward the worker; downstream LPM does the rest
      const port = nextHopPorts(topo, aggregator, w)[0];
      if (port === undefined) throw new Error(`aggregation manager: ${aggregator} has no port toward ${w}`);
      perPort.set(port, (perPort.get(port) ?? 0) + 1);
      return port;
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
    this.checkNewJob(jobId, slots);
    const place = this.placement(workers);
    if (workers.length > SML_MAX_WORKERS) {
      throw new AggregationUnavailableError(`aggregation manager: job ${jobId} has ${workers.length} workers; a slot's bitmap holds at most ${SML_MAX_WORKERS}`, jobId, place.aggregator);
    }
    const agg = place.aggregator;
    const pool = this.pool(agg);
    if (elementsPerPacket !== pool.elementsPerPacket) {
      throw new Error(`aggregation manager: job ${jobId} wants ${elementsPerPacket} elements per packet, but ${agg}'s program was built for ${pool.elementsPerPacket}`);
    }

    const range = pool.free.findIndex((r) => r.count >= slots);
    if (range < 0) {
      const free = pool.free.reduce((s, r) => s + r.count, 0);
      const largest = pool.free.reduce((m, r) => Math.max(m, r.count), 0);
      throw new AggregationUnavailableError(
        `aggregation manager: no ${slots} contiguous free aggregator slots on ${agg} for job ${jobId} ` +
          `(pool ${pool.slots}, ${free} free, largest free range ${largest})`,
        jobId,
        agg,
      );
    }
    const slotBase = pool.free[range]!.start;
    const mcastGroup = smallestFree(pool.groups, 1, 0xffff, `multicast group ids on ${agg}`);
    const instances = freeInstances(pool, workers.length, agg);
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

    takeRange(pool, range, slots);
    pool.groups.add(mcastGroup);
    for (const id of instances) pool.instances.add(id);
    this.jobs.set(jobId, plan);
    return plan;
  }

  /**
   * The tree a job would get (before anything is reserved): for each of the workers' lowest
   * common ancestors as root, the window every switch of its tree can give (the smallest
   * largest-free-range over them, capped at `slots`); the root with the largest wins; among
   * equals, the root with the most free slots of its own (jobs spread over spines and cores),
   * then the first in Topology.switches order. `bottleneck` is the switch that limits it.
   */
  treePlacement(workers: readonly string[], slots: number): { tree: AggregationTree; grant: number; bottleneck: string } {
    this.placement(workers); // validates the workers
    let best: { tree: AggregationTree; grant: number; bottleneck: string; room: number } | null = null;
    for (const root of lowestCommonAncestors(this.topology, [...workers])) {
      const tree = buildAggregationTree(this.topology, workers, root);
      let grant = slots;
      let bottleneck = root;
      for (const n of tree.nodes) {
        const largest = this.pool(n.name).free.reduce((m, r) => Math.max(m, r.count), 0);
        if (largest < grant) {
          grant = largest;
          bottleneck = n.name;
        }
      }
      const room = this.freeSlots(root);
      if (best === null || grant > best.grant || (grant === best.grant && room > best.room)) best = { tree, grant, bottleneck, room };
    }
    return { tree: best!.tree, grant: best!.grant, bottleneck: best!.bottleneck };
  }

  /**
   * Reserves a window of slots on every switch of the job's aggregation tree (as many as
   * `slots`, at least `minSlots`, the same number everywhere: the frames' slot index is
   * relative to each switch's own base) and installs the job on each switch, top-down. Throws
   * an AggregationUnavailableError (having installed nothing) when some switch has fewer than
   * `minSlots` contiguous free slots, or a node would have more children than a bitmap holds.
   */
  allocateTree(workers: readonly string[], opts: AllocateTreeOptions): TreePlan {
    const { jobId, slots, elementsPerPacket } = opts;
    const minSlots = opts.minSlots ?? slots;
    this.checkNewJob(jobId, slots);
    if (!Number.isInteger(minSlots) || minSlots < 1 || minSlots > slots) throw new Error(`aggregation manager: job ${jobId}: minSlots must be an integer in 1..${slots}, got ${minSlots}`);
    const { tree, grant, bottleneck } = this.treePlacement(workers, slots);
    for (const n of tree.nodes) {
      const pool = this.pool(n.name);
      if (!pool.tree) throw new Error(`aggregation manager: switch ${n.name} runs program ${this.switches.get(n.name)!.resources().program}, which cannot build aggregation trees (needs sharp)`);
      if (pool.elementsPerPacket !== elementsPerPacket) {
        throw new Error(`aggregation manager: job ${jobId} wants ${elementsPerPacket} elements per packet, but ${n.name}'s program was built for ${pool.elementsPerPacket}`);
      }
      if (n.children.length > SML_MAX_WORKERS) {
        throw new AggregationUnavailableError(
          `aggregation manager: job ${jobId}: ${n.name} would aggregate ${n.children.length} children; a slot's bitmap holds at most ${SML_MAX_WORKERS}`,
          jobId,
          n.name,
        );
      }
    }
    if (grant < minSlots) {
      const pool = this.pool(bottleneck);
      const free = pool.free.reduce((s, r) => s + r.count, 0);
      const largest = pool.free.reduce((m, r) => Math.max(m, r.count), 0);
      throw new AggregationUnavailableError(
        `no free slots on ${bottleneck}: job ${jobId} needs ${minSlots}, ${largest} left` +
          (free > largest ? ` contiguous (${free} free in all)` : '') +
          ` of ${pool.slots}`,
        jobId,
        bottleneck,
      );
    }

    // Reserve (in local copies first: nothing changes unless every switch installs).
    const taken: Array<{ name: string; range: number; group: number; instances: number[] }> = [];
    const switches: TreeSwitchPlan[] = tree.nodes.map((n) => {
      const pool = this.pool(n.name);
      const range = pool.free.findIndex((r) => r.count >= grant);
      const group = smallestFree(pool.groups, 1, 0xffff, `multicast group ids on ${n.name}`);
      const instances = freeInstances(pool, n.children.length, n.name);
      taken.push({ name: n.name, range, group, instances });
      return {
        name: n.name,
        address: n.address,
        parent: n.parent,
        parentAddress: n.parent === null ? 0 : nodeByName(this.topology, n.parent).address,
        level: n.level,
        slotBase: pool.free[range]!.start,
        mcastGroup: group,
        children: n.children.map((c, i) => ({ ...c, instance: instances[i]! })),
      };
    });
    const plan: TreePlan = {
      jobId,
      root: tree.root,
      rootAddress: nodeByName(this.topology, tree.root).address,
      slotCount: grant,
      elementsPerPacket,
      workers: [...workers],
      upstream: workers.map((w) => {
        const sw = tree.attachment.get(w)!;
        return { switch: sw, address: nodeByName(this.topology, sw).address };
      }),
      switches,
      height: tree.height,
    };

    const installed: TreeSwitchPlan[] = [];
    for (const sp of switches) {
      const install = this.treeUpdates(plan, sp);
      const cp = this.switches.get(sp.name)!.controlPlane;
      try {
        cp.write(install);
        installed.push(sp);
      } catch (e) {
        const applied = (e as { updateIndex?: number }).updateIndex ?? 0;
        const undo = install.slice(0, applied).reverse().map((u) => ({ type: 'DELETE' as const, entity: u.entity }));
        try {
          cp.write(undo);
          for (const done of installed.reverse()) {
            this.switches.get(done.name)!.controlPlane.write(this.treeUpdates(plan, done).reverse().map((u) => ({ type: 'DELETE' as const, entity: u.entity })));
          }
        } catch {
          /* best effort */
        }
        throw new Error(`aggregation manager: installing job ${jobId} on ${sp.name} failed: ${(e as Error).message}`);
      }
    }
    for (const t of taken) {
      const pool = this.pool(t.name);
      takeRange(pool, t.range, grant);
      pool.groups.add(t.group);
      for (const id of t.instances) pool.instances.add(id);
    }
    this.trees.set(jobId, plan);
    return plan;
  }

  /**
   * Removes a tree job from every switch, bottom-up (on each: the children's entries first, so
   * nothing more is aggregated, then the parent's entry, the group and the rewrites) and clears
   * its slots' bitmaps, counters, round numbers and done flags. False when not allocated.
   */
  releaseTree(plan: TreePlan): boolean {
    if (this.trees.get(plan.jobId) !== plan) return false;
    for (const sp of [...plan.switches].reverse()) {
      const updates: Update[] = this.treeUpdates(plan, sp).reverse().map((u) => ({ type: 'DELETE' as const, entity: u.entity }));
      for (let c = 2 * sp.slotBase; c < 2 * (sp.slotBase + plan.slotCount); c++) {
        for (const register of [SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ, SHARP_REG_DONE]) {
          updates.push({ type: 'MODIFY', entity: { kind: 'registerEntry', register, index: c, value: 0 } });
        }
      }
      this.switches.get(sp.name)!.controlPlane.write(updates);
      const pool = this.pool(sp.name);
      pool.groups.delete(sp.mcastGroup);
      for (const c of sp.children) pool.instances.delete(c.instance);
      freeRange(pool, sp.slotBase, plan.slotCount);
    }
    this.trees.delete(plan.jobId);
    return true;
  }

  /** Tree jobs currently allocated. */
  get activeTrees(): readonly TreePlan[] {
    return [...this.trees.values()];
  }

  private checkNewJob(jobId: number, slots: number): void {
    if (!Number.isInteger(jobId) || jobId < 1 || jobId > SML_MAX_JOB_ID) throw new Error(`aggregation manager: job id ${jobId} is not in 1..${SML_MAX_JOB_ID}`);
    if (this.jobs.has(jobId)) throw new Error(`aggregation manager: job ${jobId} is already allocated (on ${this.jobs.get(jobId)!.aggregator})`);
    if (this.trees.has(jobId)) throw new Error(`aggregation manager: job ${jobId} is already allocated (a tree rooted at ${this.trees.get(jobId)!.root})`);
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`aggregation manager: job ${jobId}: slots must be a positive integer, got ${slots}`);
  }

  /** One tree switch's entries, in install order: rewrites, group, the parent's entry, the children's. */
  private treeUpdates(plan: TreePlan, sp: TreeSwitchPlan): Update[] {
    const updates: Update[] = [];
    for (const c of sp.children) {
      updates.push({
        type: 'INSERT',
        entity: {
          kind: 'tableEntry',
          table: SML_RESULT_DST_TABLE,
          match: { [SML_RESULT_DST_KEY]: { kind: 'exact', value: c.instance } },
          action: { name: SML_SET_RESULT_DST, params: { dst: c.address } },
        },
      });
    }
    updates.push({ type: 'INSERT', entity: { kind: 'multicastGroupEntry', groupId: sp.mcastGroup, replicas: sp.children.map((c) => ({ port: c.port, instance: c.instance })) } });
    const key = (src: number) => ({
      [SML_WORKERS_KEY_SRC]: { kind: 'exact' as const, value: src },
      [SML_WORKERS_KEY_JOB]: { kind: 'exact' as const, value: plan.jobId },
    });
    if (sp.parent !== null) {
      updates.push({
        type: 'INSERT',
        entity: {
          kind: 'tableEntry',
          table: SML_WORKERS_TABLE,
          match: key(sp.parentAddress),
          action: { name: SHARP_SET_PARENT, params: { mcastGroup: sp.mcastGroup, slotBase: sp.slotBase, slotCount: plan.slotCount, ingressPort: this.ingressPort(sp.name, sp.parent) } },
        },
      });
    }
    sp.children.forEach((c, i) => {
      updates.push({
        type: 'INSERT',
        entity: {
          kind: 'tableEntry',
          table: SML_WORKERS_TABLE,
          match: key(c.address),
          action: {
            name: SHARP_SET_CHILD,
            params: {
              childBit: i, numChildren: sp.children.length, mcastGroup: sp.mcastGroup, slotBase: sp.slotBase, slotCount: plan.slotCount,
              ingressPort: this.ingressPort(sp.name, c.name), parent: sp.parentAddress,
            },
          },
        },
      });
    });
    return updates;
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
            params: {
              workerBit: i, numWorkers: plan.workers.length, mcastGroup: plan.mcastGroup, slotBase: plan.slotBase, slotCount: plan.slotCount,
              ingressPort: this.ingressPort(plan.aggregator, w),
            },
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
      throw new Error(`aggregation manager: switch ${name} (${formatAddress(nodeByName(this.topology, name).address)}) runs program ${res.program}, which cannot aggregate (needs switchml or sharp)`);
    }
    const slots = count.size / 2;
    const pool: Pool = {
      slots,
      tree: res.registers.some((r) => r.name === SHARP_REG_DONE),
      elementsPerPacket: values.size / count.size,
      free: [{ start: 0, count: slots }],
      groups: new Set(),
      instances: new Set(),
    };
    this.pools.set(name, pool);
    return pool;
  }
}

/** `n` replication ids unused on the switch (not yet marked used). */
function freeInstances(pool: Pool, n: number, name: string): number[] {
  const out: number[] = [];
  const taken = new Set(pool.instances);
  for (let i = 0; i < n; i++) {
    const id = smallestFree(taken, 1, 0xffff, `replication ids on ${name}`);
    taken.add(id);
    out.push(id);
  }
  return out;
}

/** Takes `count` slots from the front of free range `i`. */
function takeRange(pool: Pool, i: number, count: number): void {
  const r = pool.free[i]!;
  if (r.count === count) pool.free.splice(i, 1);
  else pool.free[i] = { start: r.start + count, count: r.count - count };
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
