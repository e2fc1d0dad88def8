/**
 * Trust at the edge (issue 12, item 1): a host that is not a job member sends frames with any
 * source address and any header values. The edge switch's source guard drops frames whose
 * source is not the host behind the port (counted as drops.spoofed), the aggregation switch
 * takes a member's contribution only from the port on the member's path, and the host
 * protocols take data only from their expected peer. No job returns a wrong result.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fabric } from '../../src/run/fabric.js';
import { buildScenarioFabric, makeReport, runWorkloads } from '../../src/run/runner.js';
import { LOCAL_CLUSTER } from '../../src/run/cluster.js';
import { loadProgram } from '../../src/run/registry.js';
import type { AllreduceResult, Report } from '../../src/report/types.js';
import { validateScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import { nodeByName } from '../../src/topology/types.js';
import { writeU32 } from '../../src/wire/bytes.js';
import { commonHeader, makeFrame } from '../../src/wire/common-header.js';
import { PROTO_FLOW, PROTO_RING, PROTO_SHARP, PROTO_SWITCHML } from '../../src/wire/protocols.js';
import { FLOW_BASE_PORT, FLOW_DATA, FLOW_HEADER_BYTES, flowHeader } from '../../src/wire/flow.js';
import {
  SML_HEADER_BYTES, SML_OFF_DATA, SML_UPDATE, encodeSwitchmlFrame, switchmlHeader,
} from '../../src/wire/switchml.js';

/** An attack: frames the attacker host sends, each at a virtual time (ns). */
type Attack = (fabric: Fabric) => Array<{ atNs: number; frame: Uint8Array }>;

/**
 * runScenario, with `attacker`'s frames injected on its link from the start of the run, the
 * whole burst again every `periodNs` (`repeats` times in all), so it lands in every job.
 */
async function runAttacked(s: Scenario, attacker: string, attack: Attack, repeats = 1, periodNs = 0): Promise<Report> {
  const topology = buildTopology(s.topology);
  const { fabric, driver } = await buildScenarioFabric(s, 'sim', s.seed, topology, s.switches.loadBalancing);
  const host = fabric.hosts.get(attacker)!;
  const burst = attack(fabric);
  for (let r = 0; r < repeats; r++) {
    // a copy per send: the network owns a frame once sent
    for (const { atNs, frame } of burst) fabric.clock.setTimer(atNs + r * periodNs, () => host.send(frame.slice()));
  }
  try {
    const runs = await runWorkloads(s, {
      mode: 'sim', topology, fabric, driver,
      cluster: () => ({ cluster: LOCAL_CLUSTER, abort: () => {} }),
      tierBytes: async (f) => f.tierBytes(),
      linkReports: async (f) => f.linkReports(),
    });
    return makeReport(s, 'sim', s.seed, topology, runs, fabric.linkReports(), fabric.switchReports());
  } finally {
    await fabric.close();
  }
}

const address = (f: Fabric, name: string): number => nodeByName(f.topology, name).address;

describe('source guard at the edge', () => {
  it('a switch drops a frame entering on a host port with another host\'s source, and counts it as spoofed', async () => {
    const s = validateScenario({ name: 'guard', mode: 'sim', topology: { kind: 'star', hosts: 3 }, workloads: [] }, '<test>');
    const topo = buildTopology(s.topology);
    const f = await Fabric.build({ topology: topo, mode: 'sim', seed: 1, links: s.links, program: await loadProgram('l3'), switchOptions: s.switches });
    try {
      const sw = f.switches.get('s0')!;
      const [h0, h1, h2] = ['h0', 'h1', 'h2'].map((h) => address(f, h));
      // s0's port i faces h(i)
      sw.receive(0, makeFrame({ protocol: 17, src: h0!, dst: h2! }, 8));
      sw.receive(0, makeFrame({ protocol: 17, src: h1!, dst: h2! }, 8));
      sw.receive(0, makeFrame({ protocol: 17, src: 0x01020304, dst: h2! }, 8));
      expect(sw.packetsOut).toBe(1);
      const [report] = f.switchReports();
      expect(report!.drops.spoofed).toBe(2);
      expect(report!.drops.table).toBe(2);
    } finally {
      await f.close();
    }
  });

  it('the issue\'s attack: a spoofed burst at job start no longer makes the result wrong', async () => {
    // h4 is no member; its link is faster, so its frames reach s0 before the members' own
    const s = validateScenario(
      {
        name: 'spoofed-burst', mode: 'sim', topology: { kind: 'star', hosts: 5 },
        links: { delayUs: 10, overrides: [{ between: ['h4', 's0'], delayUs: 0 }] },
        switches: { aggregation: { slots: 16, elementsPerPacket: 64 } },
        workloads: [{ kind: 'allreduce', algorithms: ['switchml'], bytes: 1024, dtype: 'int32', iterations: 1, workers: 4 }],
      },
      '<test>',
    );
    const report = await runAttacked(s, 'h4', (f) =>
      // h0's four packets (job 1, slot p, round 0, sequence 1 + p), with garbage values
      [0, 1, 2, 3].map((p) => ({
        atNs: 0,
        frame: encodeSwitchmlFrame({
          protocol: PROTO_SWITCHML, src: address(f, 'h0'), dst: address(f, 's0'), job: 1,
          kind: SML_UPDATE, slot: p, ver: 0, packet: 1 + p, values: new Array<number>(64).fill(1000),
        }),
      })),
    );
    const run = report.runs[0] as AllreduceResult;
    expect(run.correct, JSON.stringify(run)).toBe(true);
    expect(run.wrongElements).toBe(0);
    expect(report.switches[0]!.drops.spoofed).toBe(4);
    expect(report.switches[0]!.aggregation!.duplicate).toBe(0);
  });

  it('flows: frames from a job host that is not a flow\'s sender cannot claim the flow', async () => {
    // h2 takes part in the flows job, but h0's and h1's flows are not its to send; its link is faster
    const s = validateScenario(
      {
        name: 'flow-hijack', mode: 'sim', topology: { kind: 'star', hosts: 3 },
        links: { rateGbps: 10, delayUs: 5, overrides: [{ between: ['h2', 's0'], delayUs: 0 }] },
        workloads: [{ kind: 'flows', distribution: 'fixed', sizeBytes: 4096, load: 0.5, count: 30, pattern: 'all-to-all' }],
      },
      '<test>',
    );
    const report = await runAttacked(s, 'h2', (f) =>
      Array.from({ length: 30 }, (_, flow) => ['h0', 'h1'].map((dst) => {
        // job 1; a port no planned flow uses
        const frame = makeFrame({ type: FLOW_DATA, protocol: PROTO_FLOW, src: address(f, 'h2'), dst: address(f, dst), srcPort: 1, dstPort: FLOW_BASE_PORT + 1, seq: 0 }, FLOW_HEADER_BYTES + 1400);
        const h = flowHeader.view(frame);
        h.job = 1;
        h.flow = flow;
        h.value = 4096;
        return { atNs: 0, frame };
      })).flat(),
    );
    const run = report.runs[0] as unknown as { correct: boolean; completed: number; corruptFrames: number };
    expect(run.correct, JSON.stringify(run)).toBe(true);
    expect(run.completed).toBe(30);
    expect(run.corruptFrames).toBe(0);
  });

  it('property: an attacker sending arbitrary frames never makes ring, switchml or sharp return a wrong result', async () => {
    // Header values near the real ones (so a forgery can hit a round in progress) or anything.
    // Jobs: ring 1, switchml 2 (at spine0), sharp 3 (leaves, then spine); 8 packets per call, window 8.
    const arbitrary = <T>(near: fc.Arbitrary<T>, any: fc.Arbitrary<T>) => fc.oneof({ arbitrary: near, weight: 4 }, { arbitrary: any, weight: 1 });
    const frameArb = fc.record({
      atUs: fc.integer({ min: 0, max: 20 }),
      // whose address: a member's, a switch's, the attacker's own, or anything
      src: arbitrary<string | number>(fc.constantFrom<string | number>('h0', 'h1', 'h3', 'h4', 'h5', 'leaf0', 'leaf1', 'spine0'), fc.integer({ min: 0, max: 0xffffffff })),
      dst: fc.constantFrom('h0', 'h1', 'h3', 'h4', 'leaf0', 'leaf1', 'spine0', 'spine1'),
      app: arbitrary<readonly number[]>(fc.constantFrom<readonly number[]>([PROTO_RING, 1], [PROTO_SWITCHML, 2], [PROTO_SHARP, 3]), fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }))),
      srcPort: arbitrary(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 0xffff })),
      // a sequence number of the job's first calls, with its slot and round parity, or anything
      packet: arbitrary(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 0, max: 0xffffffff })),
      consistent: fc.boolean(),
      slot: arbitrary(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 0xffff })),
      ver: fc.integer({ min: 0, max: 2 }),
      kind: arbitrary(fc.constant(SML_UPDATE), fc.integer({ min: 0, max: 255 })),
      elements: arbitrary(fc.constant(64), fc.integer({ min: 0, max: 64 })),
      fill: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      seq: fc.integer({ min: 0, max: 64 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 60 }), fc.constantFrom('int32', 'float32'), async (frames, dtype) => {
        // h0..h3 are workers on two leaves; h5 attacks from leaf1
        const s = validateScenario(
          {
            name: 'attacked', mode: 'sim', topology: { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 3 },
            links: { delayUs: 2 },
            switches: { aggregation: { slots: 16, elementsPerPacket: 64 } },
            workloads: [{ kind: 'allreduce', algorithms: ['ring', 'switchml', 'sharp'], bytes: 2048, dtype, iterations: 2, workers: ['h0', 'h1', 'h3', 'h4'] }],
          },
          '<test>',
        );
        const report = await runAttacked(s, 'h5', (f) =>
          frames.map((a) => {
            const src = typeof a.src === 'number' ? a.src >>> 0 : address(f, a.src);
            const [protocol, job] = a.app;
            const frame = makeFrame({ protocol: protocol!, src, dst: address(f, a.dst), srcPort: a.srcPort, dstPort: job!, seq: a.seq }, SML_HEADER_BYTES + 4 * a.elements);
            const h = switchmlHeader.view(frame);
            h.kind = a.kind;
            h.slot = a.consistent ? (a.packet - 1) % 8 : a.slot;
            h.ver = a.consistent ? Math.floor((a.packet - 1) / 8) & 1 : a.ver;
            h.elementCount = a.elements;
            h.packet = a.packet;
            for (let o = SML_OFF_DATA; o + 4 <= frame.length; o += 4) writeU32(frame, o, a.fill >>> 0);
            commonHeader.view(frame).src = src;
            return { atNs: a.atUs * 1000, frame };
          }),
          // the burst again every 2 µs over the run's first 4 ms of virtual time (a call takes ~10 µs)
          2000,
          2_000,
        );
        const runs = report.runs as Array<AllreduceResult & { error?: string }>;
        expect(runs.map((r) => r.algorithm)).toEqual(['ring', 'switchml', 'sharp']);
        for (const r of runs) {
          expect(r.error, JSON.stringify(r)).toBeUndefined();
          expect(r.correct, JSON.stringify(r)).toBe(true);
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
