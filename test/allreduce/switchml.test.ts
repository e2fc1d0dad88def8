/**
 * SwitchML: the switch program on its own (a Pipeline fed frames directly), the aggregation
 * manager on a real fabric, and the client end to end through runScenario, in virtual time
 * (a property over topologies, sizes, dtypes and impaired links) and over real UDP.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import switchml from '../../pipelines/switchml.js';
import ecmp from '../../pipelines/ecmp.js';
import { SWITCHML_HOOKS, type SwitchmlHooks } from '../../hosts/allreduce/switchml-client.js';
import { RunHooks } from '../../src/run/hooks.js';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import type { Update } from '../../src/pipeline/control-plane.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { PipelineEnv } from '../../src/pipeline/program.js';
import { Fabric } from '../../src/run/fabric.js';
import { runScenario, type RunOptions } from '../../src/run/runner.js';
import type { Scenario } from '../../src/scenario/schema.js';
import {
  SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ, SML_RESULT_DST_TABLE, SML_STAT_BAD_SLOT, SML_STAT_DUPLICATE, SML_STAT_NAMES, SML_STAT_SPOOFED,
  SML_STAT_STALE, SML_STAT_UNKNOWN_WORKER, SML_STATS_COUNTER, SML_WORKERS_TABLE, type JobPlan,
} from '../../src/topology/aggregation-manager.js';
import { aggregationFabric, aggregationScenario, allreduceRuns, rateArb, type AggregationScenarioOptions } from './helpers.js';
import { nodeByName } from '../../src/topology/types.js';
import { writeU16 } from '../../src/wire/bytes.js';
import { makeFrame } from '../../src/wire/common-header.js';
import { PROTO_PING, PROTO_SWITCHML } from '../../src/wire/protocols.js';
import {
  SML_FLAG_OVERFLOW, SML_FLAG_RETRANSMIT, SML_OFF_COUNT, SML_RESULT, SML_UPDATE, encodeSwitchmlFrame, parseSwitchmlFrame,
} from '../../src/wire/switchml.js';

// ---- the pipeline alone ----------------------------------------------------------------------

const AGG = 0x0aff0001; // the switch's loopback
const WORKER = [0x0a000001, 0x0a000002, 0x0a000003];
const STRANGER = 0x0a000063;
const JOB = 7;
const GROUP = 1;
const EPP = 4;

interface Update_ {
  src: number;
  slot: number;
  ver: number;
  seq: number;
  values: number[];
  exponent?: number;
  flags?: number;
  job?: number;
  dst?: number;
}

function updateFrame(u: Update_): Uint8Array {
  return encodeSwitchmlFrame({
    protocol: PROTO_SWITCHML, src: u.src, dst: u.dst ?? AGG, job: u.job ?? JOB,
    kind: SML_UPDATE, flags: u.flags, slot: u.slot, ver: u.ver, exponent: u.exponent, packet: u.seq, values: u.values,
  });
}

interface Out {
  port: number;
  src: number;
  dst: number;
  kind: number;
  flags: number;
  exponent: number;
  values: number[];
}

/** A frame the switch sent, parsed by the wire format (src/wire/switchml.ts), with its port. */
function decode(port: number, f: Uint8Array): Out {
  const { common, header, values } = parseSwitchmlFrame(f);
  return { port, src: common.src, dst: common.dst, kind: header.kind, flags: header.flags, exponent: header.exponent, values };
}

/** A switchml pipeline with `workers` workers of job JOB on slots 2..5; worker i behind port i. */
function rig(workers = 3, options: Record<string, unknown> = {}) {
  const env: PipelineEnv = {
    switchName: 'agg',
    seed: 1,
    rng: createRng(1),
    clock: new SimClock(),
    portCount: 4,
    queueBytes: () => 0,
    options: { address: AGG, aggregation: { slots: 8, elementsPerPacket: EPP }, ...options },
  };
  const p = new Pipeline(switchml, env);
  const updates: Update[] = [];
  for (let i = 0; i < 4; i++) {
    updates.push({ type: 'INSERT', entity: { kind: 'actionProfileMember', profile: 'ecmp_selector', memberId: i + 1, action: { name: 'forward', params: { port: i } } } });
  }
  WORKER.forEach((addr, i) => {
    updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: addr, prefixLen: 32 } }, memberId: i + 1 } });
  });
  for (let i = 0; i < workers; i++) {
    updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: SML_RESULT_DST_TABLE, match: { 'std.instance': { kind: 'exact', value: 10 + i } }, action: { name: 'set_result_dst', params: { dst: WORKER[i]! } } } });
    updates.push({
      type: 'INSERT',
      entity: {
        kind: 'tableEntry',
        table: SML_WORKERS_TABLE,
        match: { 'hdr.common.src': { kind: 'exact', value: WORKER[i]! }, 'hdr.common.dstPort': { kind: 'exact', value: JOB } },
        action: { name: 'set_worker', params: { workerBit: i, numWorkers: workers, mcastGroup: GROUP, slotBase: 2, slotCount: 4, ingressPort: i } },
      },
    });
  }
  updates.push({ type: 'INSERT', entity: { kind: 'multicastGroupEntry', groupId: GROUP, replicas: Array.from({ length: workers }, (_, i) => ({ port: i, instance: 10 + i })) } });
  p.controlPlane.write(updates);
  const send = (u: Update_, port = 0): Out[] => {
    const out: Out[] = [];
    p.process(updateFrame(u), port, (q, f) => out.push(decode(q, f)));
    return out;
  };
  const stat = (i: number): number => p.controlPlane.readCounter(SML_STATS_COUNTER, i).packets;
  const reg = (name: string, i: number): number => p.controlPlane.readRegister(name, i);
  return { p, send, stat, reg };
}

describe('switchml pipeline', () => {
  it('touches each register once per packet through RegisterActions, except bitmap, count and seq (read before the round decision, written after)', () => {
    const { send, p } = rig();
    for (let seq = 5; seq < 9; seq++) {
      const ver = seq & 1;
      for (let w = 0; w < 3; w++) send({ src: WORKER[w]!, slot: 1, ver, seq, values: [seq, w, 3, 4] }, w);
    }
    // a retransmission of a completed round, and a duplicate in a round in progress
    send({ src: WORKER[0]!, slot: 1, ver: 0, seq: 8, values: [8, 0, 3, 4] }, 0);
    send({ src: WORKER[0]!, slot: 2, ver: 0, seq: 9, values: [1, 1, 1, 1] }, 0);
    send({ src: WORKER[0]!, slot: 2, ver: 0, seq: 9, values: [1, 1, 1, 1] }, 0);
    expect(p.drops.error).toBe(0);
    expect(p.registerTouches().map((t) => t.register)).toEqual([SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ]);
  });

  it('aggregates n contributions and multicasts the sum and max exponent, each copy addressed to its worker', () => {
    const { send, stat, p } = rig();
    expect(send({ src: WORKER[0]!, slot: 1, ver: 0, seq: 5, values: [1, 2, 3, 4], exponent: -3 })).toEqual([]);
    expect(send({ src: WORKER[1]!, slot: 1, ver: 0, seq: 5, values: [10, 20, 30, 40], exponent: 7 }, 1)).toEqual([]);
    const out = send({ src: WORKER[2]!, slot: 1, ver: 0, seq: 5, values: [100, -200, 300, -400], exponent: 2 }, 2);
    expect(out.map((o) => [o.port, o.dst])).toEqual([[0, WORKER[0]], [1, WORKER[1]], [2, WORKER[2]]]);
    for (const o of out) expect(o).toMatchObject({ src: AGG, kind: SML_RESULT, flags: 0, exponent: 7, values: [111, -178, 333, -356] });
    expect(p.drops.error).toBe(0);
    expect(stat(SML_STAT_NAMES.indexOf('completed'))).toBe(1);
  });

  it('drops an update from an unknown source or another job, and a slot outside the job, counting each', () => {
    const { send, stat } = rig();
    expect(send({ src: STRANGER, slot: 0, ver: 0, seq: 1, values: [1, 1, 1, 1] })).toEqual([]);
    expect(send({ src: WORKER[0]!, job: JOB + 1, slot: 0, ver: 0, seq: 1, values: [1, 1, 1, 1] })).toEqual([]);
    expect(stat(SML_STAT_UNKNOWN_WORKER)).toBe(2);
    expect(send({ src: WORKER[0]!, slot: 4, ver: 0, seq: 1, values: [1, 1, 1, 1] })).toEqual([]);
    expect(stat(SML_STAT_BAD_SLOT)).toBe(1);
  });

  it('takes a member\'s contribution only from the port on its path: from another it is spoofed, not counted', () => {
    const { send, stat, reg } = rig();
    // WORKER[0] is behind port 0; the same frame arriving on port 2 is someone else's forgery
    expect(send({ src: WORKER[0]!, slot: 0, ver: 0, seq: 1, values: [1000, 1000, 1000, 1000] }, 2)).toEqual([]);
    expect(stat(SML_STAT_SPOOFED)).toBe(1);
    expect(reg(SML_REG_BITMAP, 2 * 2)).toBe(0);
    expect(reg(SML_REG_COUNT, 2 * 2)).toBe(0);
    // the member's own frame still counts, once
    send({ src: WORKER[0]!, slot: 0, ver: 0, seq: 1, values: [1, 1, 1, 1] }, 0);
    send({ src: WORKER[1]!, slot: 0, ver: 0, seq: 1, values: [1, 1, 1, 1] }, 1);
    const out = send({ src: WORKER[2]!, slot: 0, ver: 0, seq: 1, values: [1, 1, 1, 1] }, 2);
    expect(out.map((o) => o.values)).toEqual([[3, 3, 3, 3], [3, 3, 3, 3], [3, 3, 3, 3]]);
    expect(stat(SML_STAT_DUPLICATE)).toBe(0);
  });

  it('never counts the same update twice', () => {
    const { send, stat, reg } = rig();
    const u = { src: WORKER[0]!, slot: 0, ver: 1, seq: 9, values: [5, 5, 5, 5] };
    send(u);
    expect(send(u)).toEqual([]);
    expect(send({ ...u, flags: SML_FLAG_RETRANSMIT })).toEqual([]);
    expect(stat(SML_STAT_DUPLICATE)).toBe(2);
    expect(reg(SML_REG_COUNT, 2 * 2 + 1)).toBe(1);
    send({ src: WORKER[1]!, slot: 0, ver: 1, seq: 9, values: [1, 1, 1, 1] }, 1);
    const out = send({ src: WORKER[2]!, slot: 0, ver: 1, seq: 9, values: [0, 0, 0, 1] }, 2);
    expect(out).toHaveLength(3);
    expect(out[0]!.values).toEqual([6, 6, 6, 7]);
  });

  it('answers a retransmission to a completed slot with a unicast result to the sender alone', () => {
    const { send, stat } = rig();
    for (let i = 0; i < 3; i++) send({ src: WORKER[i]!, slot: 3, ver: 0, seq: 2, values: [i, i, i, i], exponent: i }, i);
    const out = send({ src: WORKER[1]!, slot: 3, ver: 0, seq: 2, values: [1, 1, 1, 1], exponent: 1, flags: SML_FLAG_RETRANSMIT }, 1);
    expect(out).toEqual([{ port: 1, src: AGG, dst: WORKER[1], kind: SML_RESULT, flags: 0, exponent: 2, values: [3, 3, 3, 3] }]);
    expect(stat(SML_STAT_NAMES.indexOf('resent'))).toBe(1);
  });

  it('drops a retransmission to a slot still waiting for contributions', () => {
    const { send, stat } = rig();
    send({ src: WORKER[0]!, slot: 2, ver: 0, seq: 3, values: [1, 2, 3, 4] });
    expect(send({ src: WORKER[0]!, slot: 2, ver: 0, seq: 3, values: [1, 2, 3, 4], flags: SML_FLAG_RETRANSMIT })).toEqual([]);
    expect(stat(SML_STAT_DUPLICATE)).toBe(1);
  });

  it('wraps int32 sums and flags the result when a signed addition overflowed', () => {
    const { send } = rig(2);
    send({ src: WORKER[0]!, slot: 0, ver: 0, seq: 1, values: [2147483647, -2147483648, 5, -1] });
    const out = send({ src: WORKER[1]!, slot: 0, ver: 0, seq: 1, values: [1, -1, 6, 1] }, 1);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ flags: SML_FLAG_OVERFLOW, values: [-2147483648, 2147483647, 11, 0] });
    // the flag belongs to that round: the next round on the copy starts clean
    send({ src: WORKER[0]!, slot: 0, ver: 1, seq: 2, values: [1, 1, 1, 1] });
    send({ src: WORKER[1]!, slot: 0, ver: 1, seq: 2, values: [1, 1, 1, 1] }, 1);
    send({ src: WORKER[0]!, slot: 0, ver: 0, seq: 3, values: [1, 1, 1, 1] });
    expect(send({ src: WORKER[1]!, slot: 0, ver: 0, seq: 3, values: [1, 1, 1, 1] }, 1)[0]).toMatchObject({ flags: 0, values: [2, 2, 2, 2] });
  });

  it('with one worker every contribution completes at once', () => {
    const { send } = rig(1);
    const out = send({ src: WORKER[0]!, slot: 0, ver: 0, seq: 1, values: [7, 8, 9, 10], exponent: 4 });
    expect(out).toEqual([{ port: 0, src: AGG, dst: WORKER[0], kind: SML_RESULT, flags: 0, exponent: 4, values: [7, 8, 9, 10] }]);
    expect(send({ src: WORKER[0]!, slot: 0, ver: 1, seq: 2, values: [1, 1, 1, 1] })[0]!.values).toEqual([1, 1, 1, 1]);
  });

  it('alternates shadow copies: the next round overwrites, bitmaps move, stale copies never count', () => {
    const { send, stat, reg } = rig(2);
    const c0 = 2 * 2; // slot 0 of the job = register slot 2, copy 0
    send({ src: WORKER[0]!, slot: 0, ver: 0, seq: 1, values: [1, 1, 1, 1] });
    send({ src: WORKER[1]!, slot: 0, ver: 0, seq: 1, values: [2, 2, 2, 2] }, 1);
    expect([reg(SML_REG_BITMAP, c0), reg(SML_REG_BITMAP, c0 + 1)]).toEqual([0b11, 0]);
    // round 2 on copy 1; worker 0 moves over
    send({ src: WORKER[0]!, slot: 0, ver: 1, seq: 2, values: [4, 4, 4, 4] });
    expect([reg(SML_REG_BITMAP, c0), reg(SML_REG_BITMAP, c0 + 1)]).toEqual([0b10, 0b01]);
    // a held-back duplicate of worker 0's round 1 arrives now: its bit in copy 0 is clear, but
    // it is a stale round and must not be added (it would poison round 3)
    expect(send({ src: WORKER[0]!, slot: 0, ver: 0, seq: 1, values: [1, 1, 1, 1] })).toEqual([]);
    expect(stat(SML_STAT_STALE)).toBe(1);
    expect(reg(SML_REG_COUNT, c0)).toBe(0);
    expect(send({ src: WORKER[1]!, slot: 0, ver: 1, seq: 2, values: [8, 8, 8, 8] }, 1)[0]!.values).toEqual([12, 12, 12, 12]);
    // round 3 on copy 0 again: the first contribution overwrites round 1's sum, no clear pass
    send({ src: WORKER[1]!, slot: 0, ver: 0, seq: 3, values: [100, 0, 0, 0] }, 1);
    expect(send({ src: WORKER[0]!, slot: 0, ver: 0, seq: 3, values: [0, 0, 0, 1] })[0]!.values).toEqual([100, 0, 0, 1]);
    expect([reg(SML_REG_COUNT, c0), reg(SML_REG_COUNT, c0 + 1)]).toEqual([0, 0]);
    expect(reg(SML_REG_SEQ, c0)).toBe(3);
  });

  it('forwards everything else like ecmp: other protocols, and updates for another switch', () => {
    const { p } = rig();
    const out: number[] = [];
    const ping = makeFrame({ protocol: PROTO_PING, src: WORKER[0]!, dst: WORKER[2]! }, 8);
    p.process(ping, 0, (port) => out.push(port));
    p.process(updateFrame({ src: WORKER[0]!, dst: WORKER[1]!, slot: 0, ver: 0, seq: 1, values: [1, 2, 3, 4] }), 0, (port) => out.push(port));
    expect(out).toEqual([2, 1]);
  });

  it('rejects a SwitchML frame whose element count disagrees with its length at the parser', () => {
    const { p } = rig();
    const f = updateFrame({ src: WORKER[0]!, slot: 0, ver: 0, seq: 1, values: [1, 2, 3, 4] });
    writeU16(f, SML_OFF_COUNT, 3);
    p.process(f, 0, () => {
      throw new Error('must not be emitted');
    });
    expect(p.drops.parser).toBe(1);
    expect(p.parser.errors.get('SwitchmlLength')).toBe(1);
  });
});

// ---- the aggregation manager -----------------------------------------------------------------

const fabricFor = (topology: Record<string, unknown>, slots = 16, program = switchml): Promise<Fabric> => aggregationFabric(program, topology, slots);

const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `h${from + i}`);

describe('aggregation manager', () => {
  it('aggregates at the lowest common ancestor: a spine across leaves, the leaf within one, the core across pods', async () => {
    const ls = await fabricFor({ kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 });
    try {
      const m = ls.aggregation;
      const across = m.allocate(names(8), { jobId: 1, slots: 4, elementsPerPacket: 64 });
      expect(across.aggregator).toBe('spine0');
      expect(across.aggregatorAddress).toBe(nodeByName(ls.topology, 'spine0').address);
      expect([...across.workerIndex]).toEqual(names(8).map((h, i) => [h, i]));
      const within = m.allocate(['h5', 'h6'], { jobId: 2, slots: 4, elementsPerPacket: 64 });
      expect(within.aggregator).toBe('leaf1');
      // the spine's replicas: one per worker, toward its leaf, instances distinct
      const cp = ls.switches.get('spine0')!.controlPlane;
      const [group] = cp.readMulticastGroups();
      expect(group!.groupId).toBe(across.mcastGroup);
      expect(group!.replicas.map((r) => r.port)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
      expect(new Set(group!.replicas.map((r) => r.instance)).size).toBe(8);
      const entries = cp.readTableEntries(SML_WORKERS_TABLE);
      expect(entries).toHaveLength(8);
      // h3's entry admits its frames only on the spine's port toward leaf0 (port 0)
      expect(entries.map((e) => e.action!.params)).toContainEqual([3, 8, across.mcastGroup, across.slotBase, 4, 0]);
      expect(cp.readTableEntries(SML_RESULT_DST_TABLE)).toHaveLength(8);
      expect(m.placement(names(8)).fanIn).toBe(4);
    } finally {
      await ls.close();
    }
    const ft = await fabricFor({ kind: 'fat-tree', k: 4 });
    try {
      expect(ft.aggregation.allocate(['h0', 'h15'], { jobId: 1, slots: 1, elementsPerPacket: 64 }).aggregator).toBe('core0');
      expect(ft.aggregation.allocate(['h0', 'h1'], { jobId: 2, slots: 1, elementsPerPacket: 64 }).aggregator).toBe('edge0_0');
      expect(ft.aggregation.allocate(['h0', 'h2'], { jobId: 3, slots: 1, elementsPerPacket: 64 }).aggregator).toBe('agg0_0');
    } finally {
      await ft.close();
    }
  });

  it('fails clearly when the slots run out, installing nothing, and release makes them reusable', async () => {
    const f = await fabricFor({ kind: 'star', hosts: 4 }, 16);
    try {
      const m = f.aggregation;
      const cp = f.switches.get('s0')!.controlPlane;
      const a = m.allocate(names(4), { jobId: 1, slots: 10, elementsPerPacket: 64 });
      const b = m.allocate(names(2), { jobId: 2, slots: 6, elementsPerPacket: 64 });
      expect([a.slotBase, b.slotBase]).toEqual([0, 10]);
      expect(() => m.allocate(names(2, 2), { jobId: 3, slots: 1, elementsPerPacket: 64 })).toThrow(/no 1 contiguous free aggregator slots on s0 for job 3 \(pool 16, 0 free/);
      expect(cp.readTableEntries(SML_WORKERS_TABLE)).toHaveLength(6);
      expect(() => m.allocate(names(2), { jobId: 2, slots: 1, elementsPerPacket: 64 })).toThrow(/job 2 is already allocated/);
      expect(() => m.allocate(names(2), { jobId: 4, slots: 1, elementsPerPacket: 256 })).toThrow(/built for 64/);

      // dirty the job's registers as a run would, then release
      cp.write([0, 1, 2, 3].flatMap((c) => [SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ].map((register) => ({ type: 'MODIFY' as const, entity: { kind: 'registerEntry' as const, register, index: c + 2 * a.slotBase, value: 3 } }))));
      expect(m.release(a)).toBe(true);
      expect(m.release(a)).toBe(false);
      for (let c = 0; c < 20; c++) for (const r of [SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ]) expect(cp.readRegister(r, c)).toBe(0);
      expect(cp.readTableEntries(SML_WORKERS_TABLE)).toHaveLength(2);
      expect(cp.readTableEntries(SML_RESULT_DST_TABLE)).toHaveLength(2);
      expect(cp.readMulticastGroups().map((g) => g.groupId)).toEqual([b.mcastGroup]);
      expect(m.freeSlots('s0')).toBe(10);

      const c = m.allocate(names(3), { jobId: 3, slots: 10, elementsPerPacket: 64 });
      expect(c.slotBase).toBe(0);
      m.release(b);
      m.release(c);
      expect(m.freeSlots('s0')).toBe(16);
      expect(m.allocate(names(4), { jobId: 5, slots: 16, elementsPerPacket: 64 }).slotBase).toBe(0);
    } finally {
      await f.close();
    }
  });

  it('refuses a switch whose program cannot aggregate', async () => {
    const f = await fabricFor({ kind: 'star', hosts: 2 }, 16, ecmp as never);
    try {
      expect(() => f.aggregation.allocate(names(2), { jobId: 1, slots: 1, elementsPerPacket: 64 })).toThrow(/s0 .* runs program ecmp, which cannot aggregate/);
    } finally {
      await f.close();
    }
  });
});

// ---- end to end --------------------------------------------------------------------------------

const allreduceScenario = (o: AggregationScenarioOptions): Scenario => aggregationScenario('switchml', o);


/**
 * Hooks that check the aggregator after every call (no slot left dirty: every count 0, each used
 * slot's bitmaps {all workers, none}) and after release (all cleared, entries gone), given to
 * a run by `options`.
 */
function stateChecks(expectUsed: (plan: JobPlan) => number): { calls: number; releases: number; problems: string[]; options: RunOptions } {
  const seen = { calls: 0, releases: 0, problems: [] as string[] };
  const hooks: SwitchmlHooks = {
    onCallComplete(plan, fabric, iteration) {
      seen.calls++;
      const cp = fabric.switches.get(plan.aggregator)!.controlPlane;
      const full = plan.workers.length === 32 ? 0xffffffff : 2 ** plan.workers.length - 1;
      const used = expectUsed(plan);
      for (let s = 0; s < plan.slotCount; s++) {
        const c = 2 * (plan.slotBase + s);
        const counts = [cp.readRegister(SML_REG_COUNT, c), cp.readRegister(SML_REG_COUNT, c + 1)];
        const bitmaps = [cp.readRegister(SML_REG_BITMAP, c), cp.readRegister(SML_REG_BITMAP, c + 1)].sort((a, b) => a - b);
        if (counts[0] !== 0 || counts[1] !== 0) seen.problems.push(`job ${plan.jobId} it ${iteration} slot ${s}: counts ${counts}`);
        const want = s < used ? [0, full] : [0, 0];
        if (bitmaps[0] !== want[0] || bitmaps[1] !== want[1]) seen.problems.push(`job ${plan.jobId} it ${iteration} slot ${s}: bitmaps ${bitmaps} want ${want}`);
      }
    },
    onRelease(plan, fabric) {
      seen.releases++;
      const cp = fabric.switches.get(plan.aggregator)!.controlPlane;
      for (let c = 2 * plan.slotBase; c < 2 * (plan.slotBase + plan.slotCount); c++) {
        for (const r of [SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ]) if (cp.readRegister(r, c) !== 0) seen.problems.push(`after release ${r}[${c}] = ${cp.readRegister(r, c)}`);
      }
      const left = cp.readTableEntries(SML_WORKERS_TABLE).filter((e) => (e.match?.['hdr.common.dstPort'] as { value: number } | undefined)?.value === plan.jobId);
      if (left.length > 0) seen.problems.push(`after release ${left.length} worker entries left`);
      if (cp.readMulticastGroups().some((g) => g.groupId === plan.mcastGroup)) seen.problems.push('after release the multicast group is left');
    },
  };
  return Object.assign(seen, { options: { hooks: new RunHooks().with(SWITCHML_HOOKS, hooks) } });
}

const topologyArb = fc.oneof(
  fc.record({ kind: fc.constant('star' as const), hosts: fc.integer({ min: 2, max: 16 }) }),
  fc
    .record({ leaves: fc.integer({ min: 2, max: 4 }), spines: fc.integer({ min: 1, max: 2 }), hostsPerLeaf: fc.integer({ min: 1, max: 4 }) })
    .map((t) => ({ kind: 'leaf-spine' as const, ...t })),
);


describe('switchml end to end, sim', () => {
  // SML_RUNS=n runs the property longer
  it('property: any workers, sizes, dtypes, slots, loss, reorder and duplication give the right sum and leave no slot dirty', async () => {
    await fc.assert(
      fc.asyncProperty(
        topologyArb,
        fc.integer({ min: 2, max: 16 }),
        fc.integer({ min: 1, max: 1500 }),
        fc.constantFrom<'float32' | 'int32'>('float32', 'int32'),
        fc.constantFrom<64 | 256>(64, 256),
        fc.constantFrom(1, 2, 3, 7, 512),
        fc.record({ lossRate: rateArb(0.2), reorderRate: rateArb(0.1), duplicateRate: rateArb(0.1) }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        async (topology, wanted, length, dtype, elementsPerPacket, slots, links, seed) => {
          const hosts = topology.kind === 'star' ? topology.hosts : topology.leaves * topology.hostsPerLeaf;
          const workers = Math.max(2, Math.min(wanted, hosts));
          const seen = stateChecks((plan) => Math.min(plan.slotCount, Math.ceil(length / elementsPerPacket)));
          const s = allreduceScenario({ seed, topology, links, slots, elementsPerPacket, workloads: [{ bytes: 4 * length, dtype, workers }] });
          const r = await runScenario(s, seen.options);
          const [run] = allreduceRuns(r);
          expect(run, JSON.stringify(run)).toMatchObject({ algorithm: 'switchml', workers, correct: true, wrongElements: 0 });
          if (dtype === 'int32') expect(run!.maxAbsError).toBe(0);
          else expect(run!.maxAbsError).toBeLessThanOrEqual(run!.errorBound);
          expect(seen.calls).toBe(2);
          expect(seen.releases).toBe(1);
          expect(seen.problems).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.SML_RUNS ?? 12) },
    );
  }, 180_000);

  it('duplicated frames never count twice: int32 results stay exact under heavy duplication and reordering', async () => {
    const seen = stateChecks((plan) => Math.min(plan.slotCount, Math.ceil(3000 / 64)));
    const s = allreduceScenario({
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 },
      links: { duplicateRate: 0.1, reorderRate: 0.1 },
      slots: 16,
      workloads: [{ bytes: 4 * 3000, dtype: 'int32', iterations: 3 }],
    });
    const r = await runScenario(s, seen.options);
    const [run] = allreduceRuns(r);
    expect(run).toMatchObject({ correct: true, maxAbsError: 0, errorBound: 0, overflows: 0 });
    expect(seen.problems).toEqual([]);
    const spine = r.switches.find((w) => w.name === 'spine0')!;
    expect(spine.packetsIn).toBeGreaterThan(0);
    expect(r.switches.find((w) => w.name === 'spine1')!.packetsIn).toBe(0);
  });

  it('a duplicate held back past its sender\'s next round never poisons the slot (plain SwitchML deadlocks or sums wrong here)', async () => {
    // One slot, so every round alternates copies of the same slot; reordering holds frames back
    // and duplication makes late copies: a copy of round r arrives after its sender's round r+1.
    for (const seed of [1, 2, 3, 4]) {
      const seen = stateChecks(() => 1);
      const s = allreduceScenario({
        seed,
        topology: { kind: 'leaf-spine', leaves: 2, spines: 1, hostsPerLeaf: 1 },
        links: { reorderRate: 0.1, duplicateRate: 0.1, lossRate: 0.05 },
        slots: 1,
        workloads: [{ bytes: 40000, dtype: 'int32', iterations: 3 }],
      });
      const r = await runScenario(s, seen.options);
      expect(allreduceRuns(r)[0], `seed ${seed}`).toMatchObject({ correct: true, maxAbsError: 0 });
      expect(seen.problems).toEqual([]);
    }
  });

  it('reports bytes, time and per-tier traffic, and aggregates at the spine for workers across leaves', async () => {
    const s = allreduceScenario({
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 },
      links: { rateGbps: 10 },
      elementsPerPacket: 256,
      workloads: [{ bytes: 256 * 1024, dtype: 'float32' }],
    });
    const r = await runScenario(s);
    const [run] = allreduceRuns(r);
    expect(run).toMatchObject({ correct: true, retransmissions: 0, fallback: null });
    // 256 packets of 1072 bytes plus the exponent round (48-byte frames on each used slot)
    const packets = 256;
    const window = Math.min(packets, Math.floor(1048576 / 2 / (4 * 1072)));
    expect(run!.bytesSentPerWorker).toBe(packets * 1072 + window * 48);
    // the leaf uplinks carry 4 streams each: ~4 × S·(1 + 48/1024)/B
    const theory = (256 * 1024 * 8 * (1 + 48 / 1024)) / 10e9;
    expect(run!.timeSec).toBeGreaterThan(4 * theory);
    expect(run!.timeSec).toBeLessThan(4 * theory * 1.1);
    expect(r.switches.find((w) => w.name === 'spine0')!.program).toBe('switchml');
  });

  it('runs concurrent jobs, on overlapping hosts, side by side on one switch', async () => {
    const seen = stateChecks((plan) => Math.min(plan.slotCount, Math.ceil(1000 / 64)));
    const s = allreduceScenario({
      topology: { kind: 'star', hosts: 4 },
      links: { lossRate: 0.05 },
      slots: 64,
      workloads: [
        { group: 'g', bytes: 4000, dtype: 'int32', workers: ['h0', 'h1', 'h2'] },
        { group: 'g', bytes: 4000, dtype: 'float32', workers: ['h1', 'h3'] },
      ],
    });
    const r = await runScenario(s, seen.options);
    expect(allreduceRuns(r).map((x) => x.correct)).toEqual([true, true]);
    expect(seen.releases).toBe(2);
    expect(seen.problems).toEqual([]);
  });

  it('a dead aggregator rejects the call naming it, in bounded time, and the job is still released', async () => {
    const seen = stateChecks(() => 0);
    const s = allreduceScenario({ topology: { kind: 'star', hosts: 3 }, links: { lossRate: 1 }, workloads: [{ bytes: 4096, dtype: 'float32' }] });
    const r = await runScenario(s, seen.options);
    const [run] = r.runs as Array<{ correct: boolean; error?: string }>;
    expect(run!.correct).toBe(false);
    expect(run!.error).toMatch(/h\d's packet \d+ on slot \d+ got no result from aggregator s0 \(10\.255\.0\.1\) after 40 retransmissions/);
    expect(seen.releases).toBe(1);
    expect(seen.problems).toEqual([]);
  });
});

describe('switchml end to end, udp', () => {
  it('float32 on leaf-spine over loopback sockets', async () => {
    const seen = stateChecks((plan) => Math.min(plan.slotCount, Math.ceil(20000 / 256)));
    const s = allreduceScenario({
      mode: 'udp',
      topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
      elementsPerPacket: 256,
      slots: 32,
      workloads: [{ bytes: 80000, dtype: 'float32' }],
    });
    const r = await runScenario(s, seen.options);
    const [run] = allreduceRuns(r);
    expect(run, JSON.stringify(run)).toMatchObject({ correct: true, workers: 4 });
    expect(run!.timeSec).toBeGreaterThan(0);
    expect(seen.problems).toEqual([]);
  });

  it('int32 on a star with lossy, duplicating links', async () => {
    const seen = stateChecks((plan) => Math.min(plan.slotCount, Math.ceil(3001 / 64)));
    const s = allreduceScenario({
      mode: 'udp',
      topology: { kind: 'star', hosts: 3 },
      links: { lossRate: 0.02, duplicateRate: 0.05 },
      slots: 16,
      workloads: [{ bytes: 4 * 3001, dtype: 'int32' }],
    });
    const r = await runScenario(s, seen.options);
    const [run] = allreduceRuns(r);
    expect(run, JSON.stringify(run)).toMatchObject({ correct: true, maxAbsError: 0 });
    expect(seen.problems).toEqual([]);
  });
});
