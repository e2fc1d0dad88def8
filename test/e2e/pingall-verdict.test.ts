/**
 * pingall's verdict on lossy links (issue 12 item 7): it used to say OK whenever one reply came
 * back (8 of 168 on a lossy leaf-spine). Now the report states the rule it applied — every
 * ordered pair answered at least once within its retries, and no more requests lost than the
 * configured loss explains — and the verdict fails when it does not hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainedLoss, pingPlan } from '../../hosts/pingall/pingall-verdict.js';
import { renderReport } from '../../src/report/table.js';
import { runScenario } from '../../src/run/runner.js';
import { expectPingallShape, pingallScenario } from './helpers.js';

/** The counters' own arithmetic, whatever the verdict. */
function expectConsistent(run: unknown, pairs: number, count: number): asserts run is import('../../src/report/types.js').PingallResult {
  expectPingallShape(run);
  expect(run.pairs).toBe(pairs);
  expect(run.lost).toBe(run.sent - run.received);
  expect(run.sent).toBe(pairs * count + run.retries);
  expect(run.unanswered).toBeGreaterThanOrEqual(0);
  expect(run.unanswered).toBeLessThanOrEqual(pairs);
  expect(typeof run.criterion).toBe('string');
}

describe('pingall verdict on lossy links', () => {
  it('a fabric losing only what it is configured to lose passes, every pair answered, and the table says how many were lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          topology: fc.oneof(
            fc.record({ kind: fc.constant('star'), hosts: fc.integer({ min: 2, max: 6 }) }),
            fc.record({ kind: fc.constant('leaf-spine'), leaves: fc.constant(2), spines: fc.integer({ min: 1, max: 2 }), hostsPerLeaf: fc.integer({ min: 1, max: 3 }) }),
          ),
          lossRate: fc.double({ min: 0.01, max: 0.25, noNaN: true }),
          count: fc.integer({ min: 1, max: 4 }),
          seed: fc.integer({ min: 0, max: 0xffffffff }),
        }),
        async ({ topology, lossRate, count, seed }) => {
          const n = topology.kind === 'star' ? (topology as { hosts: number }).hosts : 2 * (topology as { hostsPerLeaf: number }).hostsPerLeaf;
          const r = await runScenario(pingallScenario('lossy-prop', topology, { seed, count, links: { lossRate } }));
          const run = r.runs[0];
          expectConsistent(run, n * (n - 1), count);
          expect(run.unanswered).toBe(0);
          expect(run.mismatched).toBe(0);
          expect(run.correct, run.criterion).toBe(true);
          expect(run.criterion).toMatch(/^every ordered pair answered at least once in up to \d+ requests/);
          const table = renderReport(r);
          if (run.lost > 0) {
            expect(table).toContain(`${run.received}/${run.sent} replies (${run.lost} lost)`);
            expect(table).toContain(`verdict: ${run.criterion}`);
          } else expect(table).not.toContain('lost)');
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);

  it('pairs that never answer within their retries make the run WRONG, and the table names them', async () => {
    // 50 % loss on every link of a leaf-spine: a cross-leaf request comes back 1 time in 256
    const r = await runScenario(pingallScenario('lossy-heavy', { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 }, { count: 3, links: { lossRate: 0.5 } }));
    const run = r.runs[0];
    expectConsistent(run, 56, 3);
    expect(run.received).toBeGreaterThan(0);
    expect(run.unanswered).toBeGreaterThan(0);
    expect(run.correct).toBe(false);
    const table = renderReport(r);
    expect(table).toContain(`${run.unanswered} pairs never answered  WRONG`);
    expect(table).toContain(`(${run.lost} lost)`);
    expect(table).toContain(`verdict: ${run.criterion}`);
  });

  it('loss beyond what the links are configured to lose (tail drops in 200-byte queues) is WRONG even when every pair answered', async () => {
    const r = await runScenario(pingallScenario('lossy-queues', { kind: 'star', hosts: 6 }, { count: 3, links: { lossRate: 0.01, queueBytes: 200, rateGbps: 1 } }));
    const run = r.runs[0];
    expectConsistent(run, 30, 3);
    expect(run.unanswered).toBe(0);
    const drops = r.links.reduce((s, l) => s + l.drops.ab + l.drops.ba, 0);
    expect(drops).toBeGreaterThan(0);
    const plan = pingPlan(30, 3, 0.01, 4);
    expect(run.lost).toBeGreaterThan(explainedLoss(plan, run.sent));
    expect(run.criterion).toContain(`at most ${explainedLoss(plan, run.sent)} of ${run.sent} requests lost`);
    expect(run.correct).toBe(false);
  });

  it('lossless links: every request answered, no retries, and the table line is as before', async () => {
    const r = await runScenario(pingallScenario('lossless', { kind: 'star', hosts: 4 }, { count: 2 }));
    const run = r.runs[0];
    expectConsistent(run, 12, 2);
    expect(run).toMatchObject({ sent: 24, received: 24, lost: 0, retries: 0, unanswered: 0, correct: true, criterion: 'every request answered, every reply matching its request' });
    expect(renderReport(r)).not.toContain('verdict:');
  });
});

describe('the retry budget', () => {
  it('is zero without loss, grows with loss and path length, and is capped', () => {
    expect(pingPlan(56, 3, 0, 8).retries).toBe(0);
    const light = pingPlan(56, 3, 0.02, 8).retries;
    const heavy = pingPlan(56, 3, 0.2, 8).retries;
    expect(light).toBeGreaterThan(0);
    expect(heavy).toBeGreaterThan(light);
    expect(pingPlan(56, 3, 0.2, 12).retries).toBeGreaterThan(heavy);
    expect(pingPlan(56, 3, 0.9, 8).retries).toBe(200 - 3);
    // the budget's promise: a pair whose requests come back with the worst-case chance fails all of them with probability < 1e-6 / pairs
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 5 }), fc.double({ min: 0.001, max: 0.3, noNaN: true }), fc.integer({ min: 2, max: 12 }), (pairs, count, loss, links) => {
        const plan = pingPlan(pairs, count, loss, links);
        const requests = count + plan.retries;
        const q = (1 - loss) ** links;
        if (requests < 200) expect((1 - q) ** requests).toBeLessThanOrEqual(1e-6 / pairs);
      }),
    );
  });
});
