import fc from 'fast-check';
import { expect } from 'vitest';
import { Fabric } from '../../src/run/fabric.js';
import type { ProgramFactory } from '../../src/pipeline/program.js';
import type { AllreduceResult, Report } from '../../src/report/types.js';
import { validateScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import {
  SHARP_REG_DONE, SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ, SML_RESULT_DST_TABLE, SML_WORKERS_TABLE,
} from '../../src/topology/aggregation-manager.js';

/** Every switch's slot pool is free and zeroed, and no job's entry or multicast group is left. */
export function expectPoolsFree(f: Fabric): void {
  for (const [name, sw] of f.switches) {
    const cp = sw.controlPlane;
    expect(f.aggregation.freeSlots(name), name).toBe(f.aggregation.poolSize(name));
    expect(cp.readTableEntries(SML_WORKERS_TABLE), name).toEqual([]);
    expect(cp.readTableEntries(SML_RESULT_DST_TABLE), name).toEqual([]);
    expect(cp.readMulticastGroups(), name).toEqual([]);
    for (let c = 0; c < 2 * f.aggregation.poolSize(name); c++) {
      for (const r of [SML_REG_BITMAP, SML_REG_COUNT, SML_REG_SEQ, SHARP_REG_DONE]) expect(cp.readRegister(r, c), `${name} ${r}[${c}]`).toBe(0);
    }
  }
}

/** A sim fabric whose switches run `program` with a pool of `slots` aggregator slots. */
export async function aggregationFabric(program: ProgramFactory, topology: Record<string, unknown>, slots = 16): Promise<Fabric> {
  const s = validateScenario({ name: 'mgr', mode: 'sim', topology, switches: { aggregation: { slots, elementsPerPacket: 64 } }, workloads: [] }, '<test>');
  return Fabric.build({ topology: buildTopology(s.topology), mode: 'sim', seed: 1, links: s.links, program, switchOptions: s.switches });
}

export interface AggregationScenarioOptions {
  mode?: 'sim' | 'udp';
  seed?: number;
  topology: Record<string, unknown>;
  links?: Record<string, unknown>;
  slots?: number;
  elementsPerPacket?: 64 | 256;
  workloads: Array<Record<string, unknown>>;
}

/** A scenario whose workloads all-reduce with `algorithm` (2 iterations unless they say). */
export function aggregationScenario(algorithm: 'switchml' | 'sharp', o: AggregationScenarioOptions): Scenario {
  return validateScenario(
    {
      name: `${algorithm}-e2e`,
      mode: o.mode ?? 'sim',
      seed: o.seed ?? 1,
      topology: o.topology,
      ...(o.links ? { links: o.links } : {}),
      switches: { aggregation: { slots: o.slots ?? 512, elementsPerPacket: o.elementsPerPacket ?? 64 } },
      workloads: o.workloads.map((w) => ({ kind: 'allreduce', algorithms: [algorithm], iterations: 2, ...w })),
    },
    `<${algorithm}.test>`,
  );
}

export const allreduceRuns = (r: Report): AllreduceResult[] => r.runs as AllreduceResult[];

/** 0 or a rate in (0, max], in steps of max/100 (fc.double would mostly give subnormal "zeros") */
export const rateArb = (max: number) => fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 }).map((k) => (k * max) / 100));
