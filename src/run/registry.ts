import type { ProgramFactory } from '../pipeline/program.js';
import type { WorkloadModule } from './workload.js';
// the schema owns the list of workload kinds a scenario may name
import { WORKLOAD_KINDS } from '../scenario/schema.js';

/**
 * Programs and workloads are loaded by name, so src/ never imports pipelines/ or hosts/
 * (arrows point down). Names are checked against the known lists before any import.
 */
export const PROGRAM_NAMES = ['l3', 'ecmp', 'flowlet', 'drill', 'conga', 'switchml', 'sharp'] as const;

/*
 * One promise per name, made by the first caller: concurrent callers (the workloads of a
 * `group`) then all wait on it and resume in the order they asked. Two import() calls of one
 * module resolve in whatever order the loader (tsx's hooks thread) answers them, which let the
 * second workload of a group sometimes start first: a sim report that differed run to run.
 * `sharedLoads` wraps a loader that way (exported for the test that feeds it such a loader); a
 * failed load is forgotten.
 */
export function sharedLoads<T>(load: (name: string) => Promise<T>): (name: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (name) => {
    let p = cache.get(name);
    if (!p) {
      p = load(name);
      cache.set(name, p);
      // the next caller tries again (and gets the same error)
      p.catch(() => cache.delete(name));
    }
    return p;
  };
}

async function importByName(dir: string, name: string): Promise<{ default: unknown }> {
  const url = new URL(`../../${dir}/${name}.js`, import.meta.url);
  return (await import(url.href)) as { default: unknown };
}

export const loadProgram: (name: string) => Promise<ProgramFactory> = sharedLoads(importProgram);

async function importProgram(name: string): Promise<ProgramFactory> {
  if (!(PROGRAM_NAMES as readonly string[]).includes(name)) throw new Error(`unknown switch program ${name} (known: ${PROGRAM_NAMES.join(', ')})`);
  let mod;
  try {
    mod = await importByName('pipelines', name);
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test((e as Error).message);
    throw new Error(missing ? `switch program ${name} is not implemented yet` : `switch program ${name} failed to load: ${(e as Error).message}`);
  }
  return mod.default as ProgramFactory;
}

export const loadWorkload: (kind: string) => Promise<WorkloadModule> = sharedLoads(importWorkload);

async function importWorkload(kind: string): Promise<WorkloadModule> {
  if (!(WORKLOAD_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown workload ${kind} (known: ${WORKLOAD_KINDS.join(', ')})`);
  let mod;
  try {
    // each workload has its room: hosts/<kind>/<kind>.ts
    mod = await importByName('hosts', `${kind}/${kind}`);
  } catch (e) {
    throw new Error(`workload ${kind} is not available: ${(e as Error).message}`);
  }
  return mod.default as WorkloadModule;
}
