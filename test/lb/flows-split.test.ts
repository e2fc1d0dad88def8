/**
 * The flows workload split over processes (`ina up --mode process`: every switch and host its own
 * process, the workload one copy per process) against `ina run` of the same scenario in one
 * process: the same flows, every one complete with intact bytes, and a report of the same shape.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ina, scratch, STACK_FRAME } from '../cli/helpers.js';
import type { Report } from '../../src/report/types.js';
import type { FlowsResult } from '../../hosts/flows/flows.js';

const files = scratch('flows-split');
afterAll(() => files.cleanup());

const SCENARIO = files.write(
  'flows-split.yaml',
  `name: flows-split
mode: udp
seed: 2
topology: { kind: leaf-spine, leaves: 2, spines: 2, hostsPerLeaf: 2 }
links: { rateGbps: 1 }
workloads:
  - kind: flows
    distribution: websearch
    pattern: permutation
    load: 0.5
    count: 60
    sizeScale: 0.1
`,
);

function flowsRun(path: string): { report: Report & { deployment?: { kind: string; nodes: number } }; run: FlowsResult } {
  const report = JSON.parse(readFileSync(path, 'utf8')) as Report & { deployment?: { kind: string; nodes: number } };
  expect(report.runs).toHaveLength(1);
  return { report, run: report.runs[0] as unknown as FlowsResult };
}

describe('flows across processes (ina up --mode process)', () => {
  it('every flow completes with intact bytes, and the report matches ina run in shape and flows', async () => {
    const upJson = `${files.dir}/up.json`;
    const oneJson = `${files.dir}/one.json`;
    const up = await ina(['up', SCENARIO, '--mode', 'process', '--json', upJson], { timeoutMs: 120_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).not.toMatch(STACK_FRAME);
    const one = await ina(['run', SCENARIO, '--json', oneJson], { timeoutMs: 120_000 });
    expect(one.code, one.stderr).toBe(0);

    const { report: ur, run: u } = flowsRun(upJson);
    const { report: or, run: o } = flowsRun(oneJson);
    expect(ur.deployment).toMatchObject({ kind: 'process', nodes: 8 });
    for (const r of [u, o]) {
      expect((r as { error?: unknown }).error).toBeUndefined();
      expect(r.workload).toBe('flows');
      expect(r.flows).toBe(60);
      expect(r.completed).toBe(r.flows);
      expect(r.failed).toBe(0);
      expect(r.corruptFrames).toBe(0);
      expect(r.correct).toBe(true);
      expect(r.timeSec).toBeGreaterThan(0);
      expect(r.fctSlowdown.p50).toBeGreaterThanOrEqual(1);
      expect(r.fctSlowdown.p99).toBeGreaterThanOrEqual(r.fctSlowdown.p50);
      expect(r.fctUs.mean).toBeGreaterThan(0);
    }
    // the same flows, by the same plan
    for (const k of ['loadBalancing', 'distribution', 'pattern', 'load', 'sizeScale', 'flows'] as const) expect(u[k], k).toEqual(o[k]);
    expect(Object.fromEntries(Object.entries(u.slowdownByBin).map(([b, x]) => [b, x.flows]))).toEqual(
      Object.fromEntries(Object.entries(o.slowdownByBin).map(([b, x]) => [b, x.flows])),
    );
    // link figures come from every node's counters: same links, the traffic seen, queues on switches
    expect(u.linkLoad.map((l) => [l.a, l.b])).toEqual(o.linkLoad.map((l) => [l.a, l.b]));
    expect(Object.keys(u.uplinks).sort()).toEqual(Object.keys(o.uplinks).sort());
    for (const [leaf, x] of Object.entries(u.uplinks)) expect(x.bytes.length, leaf).toBe(o.uplinks[leaf]!.bytes.length);
    const carried = (r: FlowsResult): number => r.linkLoad.reduce((s, l) => s + l.bytes.ab + l.bytes.ba, 0);
    const payload = o.linkLoad.filter((l) => l.a.startsWith('h')).reduce((s, l) => s + l.bytes.ab, 0);
    expect(payload).toBeGreaterThan(0);
    // every data frame crosses at least its two host links; retransmissions and timing vary a little
    expect(carried(u)).toBeGreaterThan(0.8 * carried(o));
    expect(carried(u)).toBeLessThan(1.5 * carried(o));
    expect(u.uplinkImbalance).toBeGreaterThanOrEqual(1);
    expect(u.maxQueueBytes).toBeGreaterThan(0);
    for (const l of u.linkLoad) {
      for (const d of ['ab', 'ba'] as const) {
        const x = l.utilization[d];
        expect(x === null || (x >= 0 && x <= 1.05), `${l.a}-${l.b} ${d} ${x}`).toBe(true);
      }
    }
    expect(ur.links.map((l) => [l.a, l.b])).toEqual(or.links.map((l) => [l.a, l.b]));
  }, 240_000);
});
