/**
 * SHARP-style aggregation trees: the switch program on its own (a Pipeline fed frames), the
 * tree builder and the aggregation manager on real fabrics, and the tree client end to end
 * through runScenario, in virtual time (properties over trees from the leaf-spine and fat-tree
 * builders, arbitrary host subsets and impaired links) and over real UDP.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import sharp from '../../pipelines/sharp.js';
import switchml from '../../pipelines/switchml.js';
import { SHARP_HOOKS, type SharpHooks } from '../../hosts/allreduce/sharp-client.js';
import { RunHooks } from '../../src/run/hooks.js';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import type { Update } from '../../src/pipeline/control-plane.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { PipelineEnv } from '../../src/pipeline/program.js';
import { Fabric } from '../../src/run/fabric.js';
import { runScenario, type RunOptions } from '../../src/run/runner.js';
import { validateScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import {
  AggregationUnavailableError, SHARP_REG_DONE, SHARP_STAT_NAMES, SHARP_STAT_PARTIAL_RESENT, SHARP_STAT_PARTIAL_UP,
  SHARP_STAT_RESULT_DOWN, SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ, SML_RESULT_DST_TABLE, SML_STAT_DUPLICATE,
  SML_STAT_STALE, SML_STAT_UNKNOWN_WORKER, SML_STATS_COUNTER, SML_WORKERS_TABLE, type TreePlan,
} from '../../src/topology/aggregation-manager.js';
import { buildAggregationTree } from '../../src/topology/aggregation-tree.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import { lowestCommonAncestors } from '../../src/topology/shortest-paths.js';
import { areAdjacent, attachmentOf, type Topology } from '../../src/topology/types.js';
import { PROTO_SHARP, PROTO_SWITCHML } from '../../src/wire/protocols.js';
import {
  SML_FLAG_OVERFLOW, SML_FLAG_RETRANSMIT, SML_RESULT, SML_UPDATE, encodeSwitchmlFrame, parseSwitchmlFrame,
} from '../../src/wire/switchml.js';
import { aggregationFabric, aggregationScenario, allreduceRuns, expectPoolsFree, rateArb, type AggregationScenarioOptions } from './helpers.js';

// ---- the pipeline alone ----------------------------------------------------------------------

const ME = 0x0aff0002; // this switch's loopback
const PARENT = 0x0aff0009;
const KIDS = [0x0a000001, 0x0a000002, 0x0aff0003]; // two workers and a child switch
const PARENT_PORT = 3;
const JOB = 7;
const GROUP = 1;
const EPP = 4;
const BASE = 2;

interface Frame_ {
  src: number;
  kind?: number;
  slot: number;
  ver: number;
  seq: number;
  values: number[];
  exponent?: number;
  flags?: number;
  job?: number;
  dst?: number;
  protocol?: number;
}

function frame(u: Frame_): Uint8Array {
  return encodeSwitchmlFrame({
    protocol: u.protocol ?? PROTO_SHARP, src: u.src, dst: u.dst ?? ME, job: u.job ?? JOB,
    kind: u.kind ?? SML_UPDATE, flags: u.flags, slot: u.slot, ver: u.ver, exponent: u.exponent, packet: u.seq, values: u.values,
  });
}

interface Out {
  port: number;
  src: number;
  dst: number;
  kind: number;
  flags: number;
  exponent: number;
  seq: number;
  values: number[];
}

/** A frame the switch sent, parsed by the wire format (src/wire/switchml.ts), with its port. */
function decode(port: number, f: Uint8Array): Out {
  const { common, header, values } = parseSwitchmlFrame(f);
  return { port, src: common.src, dst: common.dst, kind: header.kind, flags: header.flags, exponent: header.exponent, seq: header.packet, values };
}

/**
 * A sharp pipeline holding one tree job: three children (child i behind port i) on slots
 * BASE..BASE+3; `parent` 0 makes it the root, else the parent is behind PARENT_PORT.
 */
function rig(parent = PARENT) {
  const env: PipelineEnv = {
    switchName: 'leaf',
    seed: 1,
    rng: createRng(1),
    clock: new SimClock(),
    portCount: 4,
    queueBytes: () => 0,
    options: { address: ME, aggregation: { slots: 8, elementsPerPacket: EPP } },
  };
  const p = new Pipeline(sharp, env);
  const updates: Update[] = [];
  for (let i = 0; i < 4; i++) {
    updates.push({ type: 'INSERT', entity: { kind: 'actionProfileMember', profile: 'ecmp_selector', memberId: i + 1, action: { name: 'forward', params: { port: i } } } });
  }
  [...KIDS, PARENT].forEach((addr, i) => {
    updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: addr, prefixLen: 32 } }, memberId: i + 1 } });
  });
  KIDS.forEach((addr, i) => {
    updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: SML_RESULT_DST_TABLE, match: { 'std.instance': { kind: 'exact', value: 10 + i } }, action: { name: 'set_result_dst', params: { dst: addr } } } });
  });
  updates.push({ type: 'INSERT', entity: { kind: 'multicastGroupEntry', groupId: GROUP, replicas: KIDS.map((_, i) => ({ port: i, instance: 10 + i })) } });
  const key = (src: number) => ({ 'hdr.common.src': { kind: 'exact' as const, value: src }, 'hdr.common.dstPort': { kind: 'exact' as const, value: JOB } });
  if (parent !== 0) {
    updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: SML_WORKERS_TABLE, match: key(parent), action: { name: 'set_tree_parent', params: { mcastGroup: GROUP, slotBase: BASE, slotCount: 4, ingressPort: PARENT_PORT } } } });
  }
  KIDS.forEach((addr, i) => {
    updates.push({
      type: 'INSERT',
      entity: {
        kind: 'tableEntry',
        table: SML_WORKERS_TABLE,
        match: key(addr),
        action: { name: 'set_tree_child', params: { childBit: i, numChildren: KIDS.length, mcastGroup: GROUP, slotBase: BASE, slotCount: 4, ingressPort: i, parent } },
      },
    });
  });
  p.controlPlane.write(updates);
  const send = (u: Frame_, port = 0): Out[] => {
    const out: Out[] = [];
    p.process(frame(u), port, (q, f) => out.push(decode(q, f)));
    return out;
  };
  const stat = (i: number): number => p.controlPlane.readCounter(SML_STATS_COUNTER, i).packets;
  const reg = (name: string, i: number): number => p.controlPlane.readRegister(name, i);
  /** all three children contribute to slot `slot` round `seq`; returns what the last one caused */
  const round = (slot: number, ver: number, seq: number, values: number[][], flags: number[] = [0, 0, 0]): Out[] => {
    let out: Out[] = [];
    values.forEach((v, i) => (out = send({ src: KIDS[i]!, slot, ver, seq, values: v, exponent: i - 1, flags: flags[i] }, i)));
    return out;
  };
  return { p, send, stat, reg, round };
}

describe('sharp pipeline', () => {
  it('touches each register once per packet, done included (tested and set in one access), except bitmap, count and seq', () => {
    const { round, send, p } = rig();
    round(0, 1, 9, [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]);
    const result = { src: PARENT, kind: SML_RESULT, slot: 0, ver: 1, seq: 9, values: [6, 6, 6, 6] };
    send(result, PARENT_PORT);
    send(result, PARENT_PORT);
    send({ src: KIDS[1]!, slot: 0, ver: 1, seq: 9, values: [2, 2, 2, 2], flags: SML_FLAG_RETRANSMIT }, 1);
    round(1, 0, 10, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]);
    send({ src: KIDS[0]!, slot: 1, ver: 0, seq: 10, values: [1, 0, 0, 0], flags: SML_FLAG_RETRANSMIT }, 0);
    expect(p.drops.error).toBe(0);
    expect(p.registerTouches().map((t) => t.register)).toEqual([SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ]);
  });

  it('below the root: aggregates its children and sends ONE partial to its parent, src rewritten to itself', () => {
    const { round, stat, p } = rig();
    const out = round(1, 0, 5, [[1, 2, 3, 4], [10, 20, 30, 40], [100, -200, 300, -400]]);
    expect(out).toEqual([{ port: PARENT_PORT, src: ME, dst: PARENT, kind: SML_UPDATE, flags: 0, exponent: 1, seq: 5, values: [111, -178, 333, -356] }]);
    expect(stat(SHARP_STAT_PARTIAL_UP)).toBe(1);
    expect(p.drops.error).toBe(0);
  });

  it('stores the result from its parent and multicasts it to every child, each copy addressed to it; a duplicate result is dropped', () => {
    const { round, send, stat, reg } = rig();
    round(0, 1, 9, [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]);
    const c = 2 * BASE + 1;
    expect(reg(SHARP_REG_DONE, c)).toBe(0);
    const result = { src: PARENT, kind: SML_RESULT, slot: 0, ver: 1, seq: 9, values: [60, 61, 62, 63], exponent: 7, flags: SML_FLAG_OVERFLOW };
    const out = send(result, PARENT_PORT);
    expect(out.map((o) => [o.port, o.dst])).toEqual(KIDS.map((k, i) => [i, k]));
    for (const o of out) expect(o).toMatchObject({ src: ME, kind: SML_RESULT, flags: SML_FLAG_OVERFLOW, exponent: 7, seq: 9, values: [60, 61, 62, 63] });
    expect(reg(SHARP_REG_DONE, c)).toBe(1);
    expect(stat(SHARP_STAT_RESULT_DOWN)).toBe(1);
    expect(send(result, PARENT_PORT)).toEqual([]);
    expect(stat(SML_STAT_DUPLICATE)).toBe(1);
  });

  it('a child retransmitting for a round complete here: the partial goes up again (marked) until the total is back, then the total comes back by unicast', () => {
    const { round, send, stat } = rig();
    round(2, 0, 4, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]);
    const retx = { src: KIDS[1]!, slot: 2, ver: 0, seq: 4, values: [0, 1, 0, 0], flags: SML_FLAG_RETRANSMIT };
    expect(send(retx, 1)).toEqual([{ port: PARENT_PORT, src: ME, dst: PARENT, kind: SML_UPDATE, flags: SML_FLAG_RETRANSMIT, exponent: 1, seq: 4, values: [1, 1, 1, 0] }]);
    expect(stat(SHARP_STAT_PARTIAL_RESENT)).toBe(1);
    send({ src: PARENT, kind: SML_RESULT, slot: 2, ver: 0, seq: 4, values: [5, 5, 5, 5], exponent: 3 }, PARENT_PORT);
    expect(send(retx, 1)).toEqual([{ port: 1, src: ME, dst: KIDS[1], kind: SML_RESULT, flags: 0, exponent: 3, seq: 4, values: [5, 5, 5, 5] }]);
    expect(stat(SHARP_STAT_NAMES.indexOf('resent'))).toBe(1);
  });

  it('drops a result for a round the copy is not waiting for, and results or updates from the wrong source', () => {
    const { round, send, stat } = rig();
    // not complete here yet
    send({ src: KIDS[0]!, slot: 0, ver: 0, seq: 2, values: [1, 1, 1, 1] });
    expect(send({ src: PARENT, kind: SML_RESULT, slot: 0, ver: 0, seq: 2, values: [9, 9, 9, 9] }, PARENT_PORT)).toEqual([]);
    // complete, but for another round
    round(1, 0, 3, [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]);
    expect(send({ src: PARENT, kind: SML_RESULT, slot: 1, ver: 0, seq: 1, values: [9, 9, 9, 9] }, PARENT_PORT)).toEqual([]);
    expect(stat(SML_STAT_STALE)).toBe(2);
    // a child is not the parent, and the parent is not a child
    expect(send({ src: KIDS[2]!, kind: SML_RESULT, slot: 1, ver: 0, seq: 3, values: [9, 9, 9, 9] }, 2)).toEqual([]);
    expect(send({ src: PARENT, slot: 1, ver: 1, seq: 4, values: [9, 9, 9, 9] }, PARENT_PORT)).toEqual([]);
    expect(stat(SML_STAT_UNKNOWN_WORKER)).toBe(2);
  });

  it('at the root: multicasts the total on completion and answers retransmissions (a child switch\'s included) by unicast', () => {
    const { round, send } = rig(0);
    const out = round(3, 1, 8, [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]);
    expect(out.map((o) => [o.port, o.dst, o.kind, o.src])).toEqual(KIDS.map((k, i) => [i, k, SML_RESULT, ME]));
    expect(out[0]!.values).toEqual([3, 6, 9, 12]);
    const again = send({ src: KIDS[2]!, slot: 3, ver: 1, seq: 8, values: [1, 2, 3, 4], flags: SML_FLAG_RETRANSMIT }, 2);
    expect(again).toEqual([{ port: 2, src: ME, dst: KIDS[2], kind: SML_RESULT, flags: 0, exponent: 1, seq: 8, values: [3, 6, 9, 12] }]);
  });

  it('a child switch\'s partial that wrapped below flags the total as overflowed', () => {
    const { round } = rig(0);
    const out = round(0, 0, 1, [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]], [0, 0, SML_FLAG_OVERFLOW]);
    expect(out[0]!.flags).toBe(SML_FLAG_OVERFLOW);
    const next = round(0, 1, 2, [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]);
    expect(next[0]!.flags).toBe(0);
  });

  it('runs flat SwitchML jobs too, exactly as pipelines/switchml.ts', () => {
    const env = (program: string): PipelineEnv => ({
      switchName: program, seed: 1, rng: createRng(1), clock: new SimClock(), portCount: 2, queueBytes: () => 0,
      options: { address: ME, aggregation: { slots: 4, elementsPerPacket: EPP } },
    });
    const outs: Out[][] = [];
    for (const program of [sharp, switchml]) {
      const p = new Pipeline(program as typeof sharp, env(program.name));
      p.controlPlane.write([
        ...KIDS.slice(0, 2).map((addr, i): Update => ({ type: 'INSERT', entity: { kind: 'tableEntry', table: SML_RESULT_DST_TABLE, match: { 'std.instance': { kind: 'exact', value: 1 + i } }, action: { name: 'set_result_dst', params: { dst: addr } } } })),
        { type: 'INSERT', entity: { kind: 'multicastGroupEntry', groupId: 1, replicas: [{ port: 0, instance: 1 }, { port: 1, instance: 2 }] } },
        ...KIDS.slice(0, 2).map((addr, i): Update => ({
          type: 'INSERT',
          entity: { kind: 'tableEntry', table: SML_WORKERS_TABLE, match: { 'hdr.common.src': { kind: 'exact', value: addr }, 'hdr.common.dstPort': { kind: 'exact', value: JOB } }, action: { name: 'set_worker', params: { workerBit: i, numWorkers: 2, mcastGroup: 1, slotBase: 1, slotCount: 2, ingressPort: i } } },
        })),
      ]);
      const out: Out[] = [];
      for (const [i, v] of [[0, 5], [1, 7]] as const) p.process(frame({ protocol: PROTO_SWITCHML, src: KIDS[i]!, slot: 1, ver: 0, seq: 1, values: [v, v, v, v] }), i, (q, f) => out.push(decode(q, f)));
      outs.push(out);
    }
    expect(outs[0]).toEqual(outs[1]);
    expect(outs[0]!.map((o) => o.values)).toEqual([[12, 12, 12, 12], [12, 12, 12, 12]]);
  });
});

// ---- trees -------------------------------------------------------------------------------------

const leafSpineArb = fc
  .record({ leaves: fc.integer({ min: 1, max: 4 }), spines: fc.integer({ min: 1, max: 3 }), hostsPerLeaf: fc.integer({ min: 1, max: 4 }) })
  .map((t) => ({ kind: 'leaf-spine' as const, ...t }));
const fatTreeArb = fc.constantFrom(2, 4).map((k) => ({ kind: 'fat-tree' as const, k }));
const treeTopologyArb = fc.oneof(leafSpineArb, fatTreeArb);

/** a topology spec and a job: an arbitrary subset (at least two) of its hosts, in arbitrary order */
const jobArb = treeTopologyArb
  .filter((t) => (t.kind === 'fat-tree' ? t.k ** 3 / 4 : t.leaves * t.hostsPerLeaf) >= 2)
  .chain((t) => {
    const topo = buildTopology(t);
    return fc.record({ topology: fc.constant(t), workers: fc.shuffledSubarray(topo.hosts, { minLength: 2 }) });
  });

function checkTree(topo: Topology, workers: string[], root: string): void {
  const tree = buildAggregationTree(topo, workers, root);
  const byName = new Map(tree.nodes.map((n) => [n.name, n]));
  expect(tree.nodes[0]!.name).toBe(root);
  expect(tree.nodes[0]!.parent).toBeNull();
  // every worker is a child exactly once, of its attachment switch
  const asChild = tree.nodes.flatMap((n) => n.children.filter((c) => c.kind === 'worker').map((c) => [c.name, n.name]));
  expect(asChild.map(([w]) => w).sort()).toEqual([...workers].sort());
  for (const [w, n] of asChild) expect(n).toBe(attachmentOf(topo, w!).switch);
  for (const n of tree.nodes) {
    expect(n.children.length).toBeGreaterThan(0);
    for (const c of n.children) {
      expect(areAdjacent(topo, n.name, c.name)).toBe(true);
      expect(topo.links.some((l) => (l.a === c.name && l.b === n.name && l.bPort === c.port) || (l.b === c.name && l.a === n.name && l.aPort === c.port))).toBe(true);
      if (c.kind === 'switch') {
        expect(byName.get(c.name)!.parent).toBe(n.name);
        expect(byName.get(c.name)!.level).toBe(n.level + 1);
      }
    }
    // a tree: every non-root node is some node's child exactly once
    if (n.parent !== null) expect(byName.get(n.parent)!.children.filter((c) => c.name === n.name)).toHaveLength(1);
  }
  expect(tree.height).toBe(Math.max(...tree.nodes.map((n) => n.level)) + 1);
}

describe('aggregation trees', () => {
  it('on a fat-tree: core → one agg per pod → edges → workers; within a pod the root is an agg', () => {
    const topo = buildTopology({ kind: 'fat-tree', k: 4 });
    const all = buildAggregationTree(topo, topo.hosts, 'core1');
    expect(all.nodes.map((n) => n.name)).toEqual(['core1', 'agg0_0', 'agg1_0', 'agg2_0', 'agg3_0', ...[0, 1, 2, 3].flatMap((p) => [`edge${p}_0`, `edge${p}_1`])]);
    expect(all.height).toBe(3);
    expect(all.nodes.find((n) => n.name === 'edge2_1')!.children.map((c) => c.name)).toEqual(['h10', 'h11']);
    const pod = buildAggregationTree(topo, ['h5', 'h6', 'h4'], 'agg1_1');
    expect(pod.nodes.map((n) => [n.name, n.children.map((c) => c.name)])).toEqual([
      ['agg1_1', ['edge1_0', 'edge1_1']],
      ['edge1_0', ['h5', 'h4']],
      ['edge1_1', ['h6']],
    ]);
  });

  it('on a leaf-spine: spine → leaves → workers; under one leaf, just the leaf', () => {
    const topo = buildTopology({ kind: 'leaf-spine', leaves: 3, spines: 2, hostsPerLeaf: 2 });
    const t = buildAggregationTree(topo, ['h0', 'h5', 'h1'], 'spine1');
    expect(t.nodes.map((n) => [n.name, n.children.map((c) => c.name)])).toEqual([
      ['spine1', ['leaf0', 'leaf2']],
      ['leaf0', ['h0', 'h1']],
      ['leaf2', ['h5']],
    ]);
    expect(buildAggregationTree(topo, ['h2', 'h3'], 'leaf1').nodes).toHaveLength(1);
  });

  it('property: for any builder topology and any subset of hosts, every root candidate gives a tree over physical links holding each worker once', () => {
    fc.assert(
      fc.property(jobArb, ({ topology, workers }) => {
        const topo = buildTopology(topology);
        for (const root of lowestCommonAncestors(topo, workers)) checkTree(topo, workers, root);
      }),
      { numRuns: 100 },
    );
  });
});

// ---- the manager -------------------------------------------------------------------------------

const fabricFor = (topology: Record<string, unknown>, slots = 16): Promise<Fabric> => aggregationFabric(sharp, topology, slots);


describe('aggregation manager: trees', () => {
  it('installs a tree job on every switch of it, the same window everywhere, and releases it without a trace', async () => {
    const f = await fabricFor({ kind: 'fat-tree', k: 4 });
    try {
      const m = f.aggregation;
      const plan = m.allocateTree(f.topology.hosts, { jobId: 3, slots: 8, elementsPerPacket: 64 });
      expect(plan.root).toBe('core0');
      expect(plan.switches).toHaveLength(1 + 4 + 8);
      expect(plan.upstream.map((u) => u.switch)).toEqual(f.topology.hosts.map((h) => attachmentOf(f.topology, h).switch));
      for (const sp of plan.switches) {
        const cp = f.switches.get(sp.name)!.controlPlane;
        const entries = cp.readTableEntries(SML_WORKERS_TABLE);
        // one per child, plus the parent's below the root
        expect(entries, sp.name).toHaveLength(sp.children.length + (sp.parent === null ? 0 : 1));
        expect(entries.filter((e) => e.action!.name === 'set_tree_parent')).toHaveLength(sp.parent === null ? 0 : 1);
        const child = entries.find((e) => e.action!.name === 'set_tree_child')!;
        // the child's entry admits its frames only on the port toward it
        expect(child.action!.params).toEqual([0, sp.children.length, sp.mcastGroup, sp.slotBase, 8, sp.children[0]!.port, sp.parentAddress]);
        expect(cp.readMulticastGroups()[0]!.replicas.map((r) => r.port)).toEqual(sp.children.map((c) => c.port));
        expect(m.freeSlots(sp.name)).toBe(16 - 8);
      }
      // switches outside the tree are untouched
      expect(m.freeSlots('core1')).toBe(16);
      expect(m.releaseTree(plan)).toBe(true);
      expect(m.releaseTree(plan)).toBe(false);
      expectPoolsFree(f);
    } finally {
      await f.close();
    }
  });

  it('partitions the pools between jobs, picks the root with room, and fails clearly (installing nothing) when a switch is full', async () => {
    const f = await fabricFor({ kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 }, 16);
    try {
      const m = f.aggregation;
      const a = m.allocateTree(['h0', 'h2'], { jobId: 1, slots: 10, elementsPerPacket: 64 });
      expect(a.root).toBe('spine0');
      // spine0 has 6 left, spine1 16: the second job's tree roots at spine1 with the leaves' 6
      const b = m.allocateTree(['h1', 'h3'], { jobId: 2, slots: 10, minSlots: 4, elementsPerPacket: 64 });
      expect([b.root, b.slotCount]).toEqual(['spine1', 6]);
      for (const leaf of ['leaf0', 'leaf1']) {
        const ranges = [a, b].map((p) => p.switches.find((s) => s.name === leaf)!).map((s, i) => [s.slotBase, s.slotBase + [a, b][i]!.slotCount]);
        expect(ranges[0]![1]! <= ranges[1]![0]! || ranges[1]![1]! <= ranges[0]![0]!).toBe(true);
      }
      const before = f.switches.get('spine0')!.controlPlane.readTableEntries(SML_WORKERS_TABLE).length;
      let err: unknown;
      try {
        m.allocateTree(['h0', 'h3'], { jobId: 3, slots: 8, minSlots: 2, elementsPerPacket: 64 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AggregationUnavailableError);
      expect((err as Error).message).toMatch(/^no free slots on leaf0: job 3 needs 2, 0 left of 16$/);
      expect((err as AggregationUnavailableError).switchName).toBe('leaf0');
      expect(f.switches.get('spine0')!.controlPlane.readTableEntries(SML_WORKERS_TABLE)).toHaveLength(before);
      expect(() => m.allocateTree(['h0', 'h1'], { jobId: 2, slots: 1, elementsPerPacket: 64 })).toThrow(/job 2 is already allocated/);
      m.releaseTree(a);
      m.releaseTree(b);
      expectPoolsFree(f);
    } finally {
      await f.close();
    }
  });

  it('a node with more children than a bitmap holds is unavailable, not a crash', async () => {
    const f = await fabricFor({ kind: 'star', hosts: 40 });
    try {
      expect(() => f.aggregation.allocateTree(f.topology.hosts, { jobId: 1, slots: 1, elementsPerPacket: 64 })).toThrow(AggregationUnavailableError);
      expectPoolsFree(f);
    } finally {
      await f.close();
    }
  });
});

// ---- end to end --------------------------------------------------------------------------------

const sharpScenario = (o: AggregationScenarioOptions): Scenario => aggregationScenario('sharp', o);

const runsOf = allreduceRuns;

/**
 * Hooks checking every switch of a tree after every call (no round in progress anywhere; each
 * used slot's copies {all children, none}, the full one done) and after release (the job's
 * ranges cleared, its entries, group and rewrites gone, on every switch), given to a run by
 * `options` (`hooks` may be extended before the run).
 */
function treeChecks(usedOf: (plan: TreePlan) => number): { calls: number; releases: number; problems: string[]; plans: TreePlan[]; hooks: SharpHooks; options: RunOptions } {
  const seen = { calls: 0, releases: 0, problems: [] as string[], plans: [] as TreePlan[] };
  const hooks: SharpHooks = {
    onAllocate(plan) {
      seen.plans.push(plan);
    },
    onCallComplete(plan, fabric, iteration) {
      seen.calls++;
      const used = usedOf(plan);
      for (const sp of plan.switches) {
        const cp = fabric.switches.get(sp.name)!.controlPlane;
        const full = sp.children.length === 32 ? 0xffffffff : 2 ** sp.children.length - 1;
        for (let s = 0; s < plan.slotCount; s++) {
          const c = 2 * (sp.slotBase + s);
          const where = `job ${plan.jobId} it ${iteration} ${sp.name} slot ${s}`;
          const counts = [cp.readRegister(SML_REG_COUNT, c), cp.readRegister(SML_REG_COUNT, c + 1)];
          if (counts[0] !== 0 || counts[1] !== 0) seen.problems.push(`${where}: counts ${counts}`);
          const bms = [cp.readRegister(SML_REG_BITMAP, c), cp.readRegister(SML_REG_BITMAP, c + 1)];
          const sorted = [...bms].sort((x, y) => x - y);
          const want = s < used ? [0, full] : [0, 0];
          if (sorted[0] !== want[0] || sorted[1] !== want[1]) seen.problems.push(`${where}: bitmaps ${bms} want ${want}`);
          if (s < used) {
            const fullCopy = bms[0] === full ? c : c + 1;
            if (cp.readRegister(SHARP_REG_DONE, fullCopy) !== 1) seen.problems.push(`${where}: not done`);
          }
        }
      }
    },
    onRelease(plan, fabric) {
      seen.releases++;
      for (const sp of plan.switches) {
        const cp = fabric.switches.get(sp.name)!.controlPlane;
        for (let c = 2 * sp.slotBase; c < 2 * (sp.slotBase + plan.slotCount); c++) {
          for (const r of [SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ, SHARP_REG_DONE]) if (cp.readRegister(r, c) !== 0) seen.problems.push(`after release ${sp.name} ${r}[${c}]`);
        }
        const left = cp.readTableEntries(SML_WORKERS_TABLE).filter((e) => (e.match?.['hdr.common.dstPort'] as { value: number } | undefined)?.value === plan.jobId);
        if (left.length > 0) seen.problems.push(`after release ${sp.name}: ${left.length} entries left`);
        if (cp.readMulticastGroups().some((g) => g.groupId === sp.mcastGroup)) seen.problems.push(`after release ${sp.name}: group left`);
        const instances = new Set(sp.children.map((c) => c.instance));
        if (cp.readTableEntries(SML_RESULT_DST_TABLE).some((e) => instances.has((e.match!['std.instance'] as { value: number }).value))) seen.problems.push(`after release ${sp.name}: rewrites left`);
      }
    },
  };
  return Object.assign(seen, { hooks, options: { hooks: new RunHooks().with(SHARP_HOOKS, hooks) } });
}


describe('sharp end to end, sim', () => {
  // SHARP_RUNS=n runs the property longer
  it('property: any tree, any subset of hosts, sizes, dtypes, slots, loss, reorder and duplication give the exact sum and leave no slot dirty', async () => {
    await fc.assert(
      fc.asyncProperty(
        jobArb,
        fc.integer({ min: 1, max: 1500 }),
        fc.constantFrom<'float32' | 'int32'>('float32', 'int32'),
        fc.constantFrom<64 | 256>(64, 256),
        fc.constantFrom(1, 2, 3, 7, 512),
        fc.record({ lossRate: rateArb(0.15), reorderRate: rateArb(0.1), duplicateRate: rateArb(0.1) }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        async ({ topology, workers }, length, dtype, elementsPerPacket, slots, links, seed) => {
          const seen = treeChecks((plan) => Math.min(plan.slotCount, Math.ceil(length / elementsPerPacket)));
          const s = sharpScenario({ seed, topology, links, slots, elementsPerPacket, workloads: [{ bytes: 4 * length, dtype, workers }] });
          const [run] = runsOf(await runScenario(s, seen.options));
          expect(run, JSON.stringify(run)).toMatchObject({ algorithm: 'sharp', workers: workers.length, correct: true, wrongElements: 0, fallback: null });
          if (dtype === 'int32') expect(run!.maxAbsError).toBe(0);
          else expect(run!.maxAbsError).toBeLessThanOrEqual(run!.errorBound);
          expect(seen.calls).toBe(2);
          expect(seen.releases).toBe(1);
          expect(seen.problems).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.SHARP_RUNS ?? 12) },
    );
  }, 240_000);

  it('recovers lost partials and results on the upper tiers alone (leaf loss-free): walks retransmissions up the tree', async () => {
    const seen = treeChecks((plan) => Math.min(plan.slotCount, Math.ceil(5000 / 64)));
    const upper = ['edge0_0', 'edge0_1', 'edge1_0', 'edge1_1', 'edge2_0', 'edge2_1', 'edge3_0', 'edge3_1'].flatMap((e) => {
      const p = e.slice(4, 5);
      return [`agg${p}_0`, `agg${p}_1`].map((a) => ({ between: [e, a], lossRate: 0.1, duplicateRate: 0.05 }));
    });
    const core = [0, 1, 2, 3].map((p) => ({ between: [`agg${p}_0`, 'core0'], lossRate: 0.1, reorderRate: 0.1 }));
    const s = sharpScenario({
      topology: { kind: 'fat-tree', k: 4 },
      links: { rateGbps: 10, overrides: [...upper, ...core] },
      slots: 16,
      workloads: [{ bytes: 4 * 5000, dtype: 'int32', iterations: 3 }],
    });
    let resent = 0;
    let resultsDown = 0;
    seen.hooks.onRelease = ((release) => (plan: TreePlan, fabric: Fabric) => {
      for (const sp of plan.switches) {
        const cp = fabric.switches.get(sp.name)!.controlPlane;
        resent += cp.readCounter(SML_STATS_COUNTER, SHARP_STAT_PARTIAL_RESENT).packets;
        resultsDown += cp.readCounter(SML_STATS_COUNTER, SHARP_STAT_RESULT_DOWN).packets;
      }
      release?.(plan, fabric);
    })(seen.hooks.onRelease);
    const r = await runScenario(s, seen.options);
    const [run] = runsOf(r);
    expect(run).toMatchObject({ correct: true, maxAbsError: 0, overflows: 0 });
    expect(run!.retransmissions).toBeGreaterThan(0);
    expect(resent).toBeGreaterThan(0);
    expect(resultsDown).toBeGreaterThan(0);
    expect(seen.problems).toEqual([]);
    expect(seen.releases).toBe(1);
    // host links lose nothing: every loss was on a switch-to-switch link
    for (const l of r.links) if (l.a.startsWith('h')) expect(l.lost.ab + l.lost.ba).toBe(0);
  });

  it('halves the edge-to-agg bytes of flat SwitchML on a fat-tree with 2 hosts per edge, and is faster (the README benchmark, small)', async () => {
    const s = validateScenario(
      {
        name: 'sharp-vs-switchml',
        mode: 'sim',
        topology: { kind: 'fat-tree', k: 4 },
        links: { rateGbps: 10 },
        switches: { aggregation: { slots: 512, elementsPerPacket: 256 } },
        workloads: [{ kind: 'allreduce', algorithms: ['sharp', 'switchml'], bytes: 512 * 1024, dtype: 'float32', iterations: 1 }],
      },
      '<sharp.test>',
    );
    const [sh, sml] = runsOf(await runScenario(s));
    expect(sh).toMatchObject({ algorithm: 'sharp', correct: true, retransmissions: 0 });
    expect(sml).toMatchObject({ algorithm: 'switchml', correct: true });
    expect(Object.keys(sh!.tierBytes)).toEqual(['host-edge', 'edge-agg', 'agg-core']);
    expect(sh!.tierBytes['edge-agg']!).toBeLessThanOrEqual((sml!.tierBytes['edge-agg']! / 2) * 1.05);
    expect(sh!.tierBytes['agg-core']!).toBeLessThanOrEqual((sml!.tierBytes['agg-core']! / 4) * 1.05);
    expect(sh!.timeSec).toBeLessThanOrEqual(sml!.timeSec);
    expect(sh!.placement).toMatchObject({ root: 'core0', height: 3 });
  });

  it('a tree that stops answering rejects the call naming the tree, in bounded time, and is still released', async () => {
    const seen = treeChecks(() => 0);
    const s = sharpScenario({
      topology: { kind: 'leaf-spine', leaves: 2, spines: 1, hostsPerLeaf: 2 },
      links: { overrides: [{ between: ['leaf1', 'spine0'], lossRate: 1 }] },
      workloads: [{ bytes: 4096, dtype: 'float32' }],
    });
    const [run] = (await runScenario(s, seen.options)).runs as Array<{ correct: boolean; error?: string }>;
    expect(run!.correct).toBe(false);
    expect(run!.error).toMatch(/sharp job 1: the tree rooted at spine0 did not answer h\d on slot \d+ \(packet \d+\) after 40 retransmissions to leaf\d \(10\.255\.0\.\d\)/);
    // the cut is between leaf1 and spine0: the worker's leaf is complete, spine0 waits for leaf1's partial
    expect(run!.error).toMatch(/the round completed on leaf\d \(every contribution arrived\) but its total never came down from spine0: the round on spine0 waits for leaf1 \(contributions arrived from leaf0\)/);
    expect(seen.releases).toBe(1);
    expect(seen.problems).toEqual([]);
  });
});

describe('sharp end to end, udp', () => {
  it('float32 on a leaf-spine over loopback sockets', async () => {
    const seen = treeChecks((plan) => Math.min(plan.slotCount, Math.ceil(20000 / 256)));
    const s = sharpScenario({
      mode: 'udp',
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
      elementsPerPacket: 256,
      slots: 32,
      workloads: [{ bytes: 80000, dtype: 'float32' }],
    });
    const [run] = runsOf(await runScenario(s, seen.options));
    expect(run, JSON.stringify(run)).toMatchObject({ correct: true, workers: 4, fallback: null });
    expect(seen.problems).toEqual([]);
    expect(seen.plans[0]!.switches.map((x) => x.name)).toEqual(['spine0', 'leaf0', 'leaf1']);
  });

  it('int32 on a fat-tree(4) with lossy, duplicating links, some hosts only', async () => {
    const seen = treeChecks((plan) => Math.min(plan.slotCount, Math.ceil(3001 / 64)));
    const s = sharpScenario({
      mode: 'udp',
      topology: { kind: 'fat-tree', k: 4 },
      links: { lossRate: 0.02, duplicateRate: 0.05 },
      slots: 16,
      workloads: [{ bytes: 4 * 3001, dtype: 'int32', workers: ['h0', 'h1', 'h6', 'h13'] }],
    });
    const [run] = runsOf(await runScenario(s, seen.options));
    expect(run, JSON.stringify(run)).toMatchObject({ correct: true, maxAbsError: 0 });
    expect(seen.problems).toEqual([]);
  });
});

