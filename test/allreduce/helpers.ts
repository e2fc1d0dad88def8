import { expect } from 'vitest';
import type { Fabric } from '../../src/run/fabric.js';
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
