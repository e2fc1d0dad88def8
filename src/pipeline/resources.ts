import type { ProgramInstance } from './instance.js';

/** What a program occupies on its switch: the numbers a Tofino compiler report would show. */
export interface ResourceSummary {
  program: string;
  parserStates: number;
  tables: Array<{ name: string; keys: string[]; size: number; entries: number; selector: string | null }>;
  registers: Array<{ name: string; width: number; size: number; bits: number }>;
  registerBits: number;
  counters: Array<{ name: string; size: number }>;
  meters: Array<{ name: string; size: number }>;
  multicastGroups: number;
  maxPasses: number;
}

export function summarizeResources(p: ProgramInstance): ResourceSummary {
  const registers = [...p.registers.values()].map((r) => ({ name: r.name, width: r.width, size: r.size, bits: r.width * r.size }));
  return {
    program: p.program.name,
    parserStates: p.parser.stateCount,
    tables: [...p.tables.values()].map((t) => ({
      name: t.name,
      keys: t.spec.keys.map((k) => `${k.name}:${k.match}`),
      size: t.spec.size,
      entries: t.match.size,
      selector: t.spec.selector?.name ?? null,
    })),
    registers,
    registerBits: registers.reduce((s, r) => s + r.bits, 0),
    counters: [...p.counters.values()].map((c) => ({ name: c.name, size: c.size })),
    meters: [...p.meters.values()].map((m) => ({ name: m.name, size: m.size })),
    multicastGroups: p.pre.groups.size,
    maxPasses: p.maxPasses,
  };
}
