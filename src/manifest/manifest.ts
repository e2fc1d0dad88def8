/**
 * One manifest from the descriptors of programs and workloads: what the scenario schema, the
 * checks, the runner, the table and the loaders ask about a kind, answered in one place. Built
 * from lists of descriptors (builtin.ts gives the shipped ones), so a test or an embedding can
 * add its own program or workload the same way a file in pipelines/ or hosts/ does.
 */
import type { OptionFragment, ProgramDescriptor, WorkloadDescriptor } from './descriptor.js';

export interface Manifest {
  readonly programs: readonly ProgramDescriptor[];
  readonly workloads: readonly WorkloadDescriptor[];
  /** the programs that are a `switches.loadBalancing` choice, in manifest order */
  readonly loadBalancers: readonly [string, ...string[]];
  /** every program's `switches` keys, in manifest order (a shared fragment once) */
  readonly switchOptions: OptionFragment;
  program(name: string): ProgramDescriptor | undefined;
  workload(kind: string): WorkloadDescriptor | undefined;
  /**
   * The program a fabric runs for these workloads when its scheme is `scheme`: the scheme's own
   * program, unless a workload needs services (in-network aggregation), then the program
   * serving all of them (one program per fabric: aggregation programs also forward).
   */
  programFor(scheme: string, workloads: ReadonlyArray<{ kind: string }>): string;
}

export function manifestOf(programs: readonly ProgramDescriptor[], workloads: readonly WorkloadDescriptor[]): Manifest {
  const programsByName = byKey(programs, (p) => p.name, 'switch program');
  const workloadsByKind = byKey(workloads, (w) => w.kind, 'workload');
  const loadBalancers = programs.filter((p) => p.spreads !== undefined).map((p) => p.name);
  if (loadBalancers.length === 0) throw new Error('manifest: no program is a load-balancing scheme (none says how it spreads traffic)');
  const switchOptions: Record<string, OptionFragment[string]> = {};
  for (const p of programs) {
    for (const [key, schema] of Object.entries(p.switchOptions ?? {})) {
      const known = switchOptions[key];
      // Two programs reading one key share its fragment; two meanings of one key are a bug.
      if (known !== undefined && known !== schema) throw new Error(`manifest: switches.${key} is declared by ${p.name} and by another program differently`);
      switchOptions[key] = schema;
    }
  }
  return {
    programs,
    workloads,
    loadBalancers: loadBalancers as [string, ...string[]],
    switchOptions,
    program: (name) => programsByName.get(name),
    workload: (kind) => workloadsByKind.get(kind),
    programFor(scheme, ws) {
      const needs = new Set<string>();
      for (const w of ws) for (const n of workloadsByKind.get(w.kind)?.needs?.(w as never) ?? []) needs.add(n);
      if (needs.size === 0) return scheme;
      const serving = programs.filter((p) => [...needs].every((n) => p.serves?.includes(n)));
      if (serving.length === 0) throw new Error(`no switch program serves ${[...needs].join(' and ')}`);
      // the narrowest program that does the job (switchml rather than sharp for flat jobs)
      return serving.reduce((best, p) => (p.serves!.length < best.serves!.length ? p : best)).name;
    },
  };
}

function byKey<T>(items: readonly T[], key: (t: T) => string, what: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    if (out.has(k)) throw new Error(`manifest: two ${what}s named ${k}`);
    out.set(k, item);
  }
  return out;
}
