/**
 * The properties, in virtual time: flowlet switching never moves a flow inside a gap
 * shorter than flowletGapUs; DRILL and CONGA only ever choose ports of the route's group; every
 * flow completes with intact bytes at any loss up to 5 %; runs replay from the seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import flowlet from '../../pipelines/flowlet.js';
import drill from '../../pipelines/drill.js';
import conga from '../../pipelines/conga.js';
import { runScenario } from '../../src/run/runner.js';
import { makeFrame, OFF_CONGESTION, OFF_FEEDBACK, OFF_PATHTAG } from '../../src/wire/common-header.js';
import { FLAG_CONGA, encodeFeedback } from '../../src/wire/conga.js';
import { addr, flowFrame, flowsScenario, rig } from './helpers.js';
import type { Report } from '../../src/report/types.js';

const packetsArb = fc.array(
  fc.record({
    flow: fc.integer({ min: 0, max: 7 }),
    /** ns since the previous packet (of any flow) */
    dt: fc.integer({ min: 0, max: 120_000 }),
  }),
  { minLength: 1, maxLength: 300 },
);

describe('flowlet switching', () => {
  it('never moves a flow inside a gap of at most flowletGapUs (any interleaving of flows)', () => {
    fc.assert(
      fc.property(packetsArb, fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 1000 }), (pkts, gapUs, seed) => {
        const r = rig(flowlet, { groupPorts: [4, 5, 6, 7], options: { flowletGapUs: gapUs }, seed });
        const last = new Map<number, { t: number; port: number }>();
        let t = 0;
        for (const { flow, dt } of pkts) {
          t += dt;
          r.clock.t = t;
          const port = r.send(flowFrame(flow % 4, flow % 2, 50000 + flow), flow % 4);
          const prev = last.get(flow);
          if (prev !== undefined && t - prev.t <= gapUs * 1000) expect(port).toBe(prev.port);
          last.set(flow, { t, port });
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('drill and conga choose only ports of the route`s group', () => {
  const groupArb = fc.uniqueArray(fc.integer({ min: 4, max: 11 }), { minLength: 1, maxLength: 8 });
  const trafficArb = fc.array(
    fc.record({
      flow: fc.integer({ min: 0, max: 15 }),
      dt: fc.integer({ min: 0, max: 200_000 }),
      queues: fc.array(fc.integer({ min: 0, max: 600_000 }), { minLength: 12, maxLength: 12 }),
      /** a frame from the remote leaf with arbitrary overlay fields, arriving on an uplink */
      reverse: fc.option(fc.record({ tag: fc.integer({ min: 0, max: 255 }), ce: fc.integer({ min: 0, max: 255 }), fbTag: fc.integer({ min: 0, max: 255 }), fbMetric: fc.integer({ min: 0, max: 7 }) }), { nil: undefined }),
      bytes: fc.integer({ min: 0, max: 8000 }),
    }),
    { minLength: 1, maxLength: 150 },
  );

  for (const [name, program] of [['drill', drill], ['conga', conga]] as const) {
    it(`${name}: every packet to the remote leaf leaves on a member of the group`, () => {
      fc.assert(
        fc.property(groupArb, trafficArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), (group, traffic, d, m) => {
          const r = rig(program, { groupPorts: group, options: { drill: { d, m }, flowletGapUs: 20 } });
          let t = 0;
          for (const p of traffic) {
            t += p.dt;
            r.clock.t = t;
            p.queues.forEach((q, i) => (r.queue[i] = q));
            if (p.reverse) {
              const f = makeFrame({ protocol: 6, src: addr(1, 0), dst: addr(0, p.flow % 4), srcPort: 1, dstPort: 2, flags: FLAG_CONGA }, 40);
              f[OFF_PATHTAG] = p.reverse.tag;
              f[OFF_CONGESTION] = p.reverse.ce;
              const fb = encodeFeedback(p.reverse.fbTag, p.reverse.fbMetric);
              f[OFF_FEEDBACK] = fb >>> 8;
              f[OFF_FEEDBACK + 1] = fb & 0xff;
              expect(r.send(f, group[0]!)).toBe(p.flow % 4);
            }
            const port = r.send(flowFrame(p.flow % 4, p.flow % 3, 20000 + p.flow, { bytes: p.bytes }), p.flow % 4);
            expect(group).toContain(port);
          }
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe('flows end to end (sim)', () => {
  it('every flow completes with intact bytes at any loss up to 5 %, whatever the scheme', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.constantFrom('ecmp', 'flowlet', 'drill', 'conga'),
        fc.integer({ min: 1, max: 10_000 }),
        fc.constantFrom('all-to-all', 'permutation', 'incast'),
        async (lossRate, scheme, seed, pattern) => {
          const s = flowsScenario({ seed, links: { lossRate }, switches: { loadBalancing: scheme }, flows: { count: 12, pattern } });
          const r = await runScenario(s);
          const run = r.runs[0] as unknown as { correct: boolean; completed: number; flows: number; error?: string };
          expect(run.error).toBeUndefined();
          expect(run.completed).toBe(run.flows);
          expect(run.correct).toBe(true);
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);

  it('replays from the seed: same seed, byte-identical report; another seed, other flows', async () => {
    const s = flowsScenario({ seed: 11, schemes: ['ecmp', 'flowlet', 'drill', 'conga'], links: { lossRate: 0.01, jitterUs: 2 } });
    const a = JSON.stringify(await runScenario(s));
    const b = JSON.stringify(await runScenario(s));
    expect(b).toBe(a);
    const other = (await runScenario(s, { seed: 12 })) as Report;
    const runs = (x: Report): string => JSON.stringify(x.runs);
    expect(runs(other)).not.toBe(runs(JSON.parse(a) as Report));
  }, 60_000);
});
