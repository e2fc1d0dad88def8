/**
 * When an aggregation job fails (issue 12, items 3 and 4): the error names the member whose
 * contributions are missing and says whether the aggregator itself answers; and a failed
 * algorithm is one row of its own, the other algorithms' finished results kept.
 */
import { describe, expect, it } from 'vitest';
import { SWITCHML_HOOKS, type SwitchmlHooks } from '../../hosts/allreduce/switchml-client.js';
import { RunHooks } from '../../src/run/hooks.js';
import type { Fabric } from '../../src/run/fabric.js';
import { runScenario } from '../../src/run/runner.js';
import { renderReport } from '../../src/report/table.js';
import type { AllreduceResult } from '../../src/report/types.js';
import { SML_WORKERS_TABLE, type JobPlan } from '../../src/topology/aggregation-manager.js';
import { nodeByName } from '../../src/topology/types.js';
import { aggregationScenario } from './helpers.js';
import { validateScenario } from '../../src/scenario/load.js';

/** The run options giving the switchml client these hooks. */
const withHooks = (hooks: SwitchmlHooks) => ({ hooks: new RunHooks().with(SWITCHML_HOOKS, hooks) });

type Row = AllreduceResult & { error?: string };

/** Cuts `host`'s link toward its switch: from then on it loses every frame it sends. */
function cut(fabric: Fabric, host: string): void {
  fabric.links.find((l) => l.spec.a === host)!.ab.close();
}

/** From now on `host` loses every frame it sends (it still receives, like a worker whose sends stall). */
function mute(fabric: Fabric, host: string): void {
  fabric.hosts.get(host)!.send = () => {};
}

/** Makes the aggregator refuse `worker`'s contributions (its entry names a port they never come on). */
function refuse(plan: JobPlan, fabric: Fabric, worker: string): void {
  const cp = fabric.switches.get(plan.aggregator)!.controlPlane;
  const match = {
    'hdr.common.src': { kind: 'exact' as const, value: nodeByName(fabric.topology, worker).address },
    'hdr.common.dstPort': { kind: 'exact' as const, value: plan.jobId },
  };
  const i = plan.workerIndex.get(worker)!;
  const params = { workerBit: i, numWorkers: plan.workers.length, mcastGroup: plan.mcastGroup, slotBase: plan.slotBase, slotCount: plan.slotCount, ingressPort: 0xfffe };
  cp.write([{ type: 'MODIFY', entity: { kind: 'tableEntry', table: SML_WORKERS_TABLE, match, action: { name: 'set_worker', params } } }]);
}

describe('blame the right node', () => {
  it('a worker cut off mid-job is named as the missing contribution, and the aggregator is said to answer', async () => {
    // h1's frames stop reaching the switch 20 µs into the call: the other workers' rounds wait for it
    const hooks = withHooks({ tuning: { maxRetries: 8 }, onAllocate: (_plan, fabric) => void fabric.clock.setTimer(20_000, () => mute(fabric, 'h1')) });
    const s = aggregationScenario('switchml', {
      topology: { kind: 'star', hosts: 4 },
      links: { rateGbps: 10, delayUs: 1 },
      slots: 16,
      workloads: [{ bytes: 65536, dtype: 'int32', iterations: 1 }],
    });
    const [run] = (await runScenario(s, hooks)).runs as Row[];
    expect(run!.correct).toBe(false);
    expect(run!.error).toMatch(/the round on s0 waits for h1 \(contributions arrived from h0, h2, h3\)/);
    expect(run!.error).toMatch(/s0 itself answers \(its last result reached h\d [\d.]+ (µs|ms|s) earlier\)/);
  });

  it('a worker that never reaches the aggregator is named; the aggregator sent no result', async () => {
    const hooks = withHooks({ tuning: { maxRetries: 8 }, onAllocate: (_plan, fabric) => cut(fabric, 'h2') });
    const s = aggregationScenario('switchml', { topology: { kind: 'star', hosts: 3 }, slots: 16, workloads: [{ bytes: 4096, dtype: 'float32', iterations: 1 }] });
    const [run] = (await runScenario(s, hooks)).runs as Row[];
    expect(run!.error).toMatch(/waits for h2 \(contributions arrived from h0, h1\)/);
    expect(run!.error).toMatch(/s0 sent h\d no result in this call/);
  });
});

describe('one failing algorithm keeps the others\' results', () => {
  const compare = (algorithms: string[]) =>
    validateScenario(
      {
        name: 'compare', mode: 'sim', topology: { kind: 'star', hosts: 4 },
        switches: { aggregation: { slots: 16, elementsPerPacket: 64 } },
        workloads: [{ kind: 'allreduce', algorithms, bytes: 4096, dtype: 'int32', iterations: 2 }],
      },
      '<failures.test>',
    );

  it('ring then a failing switchml: the ring\'s correct result is reported, switchml\'s row has its reason', async () => {
    const hooks = withHooks({ tuning: { maxRetries: 8 }, onAllocate: (_plan, fabric) => cut(fabric, 'h3') });
    const report = await runScenario(compare(['ring', 'switchml']), hooks);
    const [ring, sml] = report.runs as Row[];
    expect(report.runs).toHaveLength(2);
    expect(ring).toMatchObject({ workload: 'allreduce', algorithm: 'ring', correct: true, wrongElements: 0 });
    expect(ring!.timesSec).toHaveLength(2);
    expect(sml).toMatchObject({ workload: 'allreduce', algorithm: 'switchml', correct: false, workers: 4, bytes: 4096 });
    expect(sml!.error).toMatch(/waits for h3/);
    // the table shows both: the ring's row, and the failed one with its reason
    const table = renderReport(report);
    expect(table).toMatch(/ring .* OK/);
    expect(table).toMatch(/allreduce: algorithm=switchml .*error=switchml job 2: .* WRONG/);
  });

  it('a failing switchml first: the ring after it still runs and is reported correct', async () => {
    const hooks = withHooks({ tuning: { maxRetries: 8 }, onAllocate: (plan, fabric) => refuse(plan, fabric, 'h0') });
    const report = await runScenario(compare(['switchml', 'ring']), hooks);
    const [sml, ring] = report.runs as Row[];
    expect(sml).toMatchObject({ algorithm: 'switchml', correct: false });
    expect(sml!.error).toMatch(/waits for h0 \(contributions arrived from h1, h2, h3\)/);
    expect(ring).toMatchObject({ algorithm: 'ring', correct: true, wrongElements: 0 });
    // h0's refused contributions are counted by reason
    expect(report.switches[0]!.aggregation!.spoofed).toBeGreaterThan(0);
  });
});
