import type { ProgramBuilder } from '../../../src/pipeline/program.js';
import type { Register } from '../../../src/pipeline/externs/register.js';
import type { RegisterAction } from '../../../src/pipeline/externs/register-action.js';
import {
  SHARP_REG_DONE, SML_REG_BITMAP, SML_REG_COUNT, SML_REG_EXPONENT, SML_REG_OVERFLOW, SML_REG_SEQ, SML_REG_VALUES,
} from '../../../src/wire/names/aggregation.js';

/**
 * The aggregator slots: SwitchML's registers, two shadow copies per slot (copy c = 2·slot +
 * ver), and the RegisterActions the controls update them with. `values` is one register per
 * element of a packet (lane i holds element i of every copy, as SwitchML lays out one register
 * per element), so summing a packet into a copy is one access per register; `bitmap` is one
 * register per shadow copy (lane = ver).
 *
 * bitmap, count and seq are read before the round's decision and written after it (SwitchML's
 * stale-round rule reads all three), so a packet touches them twice; Pipeline.registerTouches
 * names them.
 */
export interface SlotRegisters {
  readonly values: Register;
  readonly bitmap: Register;
  readonly count: Register;
  readonly exponent: Register;
  readonly overflow: Register;
  readonly seq: Register;
  /** tree programs: 1 once the copy holds the job's total */
  readonly done: Register | null;
  /** values[i] += v, returns the (wrapped int32) sum */
  readonly accumulate: RegisterAction;
  /** values[i] = v: the first contribution of a round overwrites (no clear pass) */
  readonly storeValue: RegisterAction;
  readonly storeExponent: RegisterAction;
  readonly maxExponent: RegisterAction;
  readonly storeOverflow: RegisterAction;
  /** overflow |= v */
  readonly orOverflow: RegisterAction;
}

const store = (_old: number, v: number): number => v;

export function declareSlots<M>(p: ProgramBuilder<M>, slots: number, elementsPerPacket: number, tree: boolean): SlotRegisters {
  const copies = slots * 2;
  const values = p.register(SML_REG_VALUES, 32, copies * elementsPerPacket, true, elementsPerPacket);
  const bitmap = p.register(SML_REG_BITMAP, 32, copies, false, 2);
  const count = p.register(SML_REG_COUNT, 8, copies);
  const exponent = p.register(SML_REG_EXPONENT, 8, copies, true);
  const overflow = p.register(SML_REG_OVERFLOW, 1, copies);
  const seq = p.register(SML_REG_SEQ, 32, copies);
  const done = tree ? p.register(SHARP_REG_DONE, 1, copies) : null;
  return {
    values, bitmap, count, exponent, overflow, seq, done,
    accumulate: p.registerAction('accumulate', values, (old, v) => old + v),
    storeValue: p.registerAction('store_value', values, store),
    storeExponent: p.registerAction('store_exponent', exponent, store),
    maxExponent: p.registerAction('max_exponent', exponent, (old, e) => (e > old ? e : old)),
    storeOverflow: p.registerAction('store_overflow', overflow, store),
    orOverflow: p.registerAction('or_overflow', overflow, (old, v) => old | v),
  };
}
