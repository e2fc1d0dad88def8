import type { ProgramFactory } from '../pipeline/program.js';
import type { WorkloadModule } from './workload.js';
import type { Manifest } from '../manifest/manifest.js';
import { MANIFEST } from '../manifest/builtin.js';

/**
 * Programs and workloads are loaded by name through their descriptors (the manifest), so
 * src/ never imports pipelines/ or hosts/ code itself (arrows point down), and a name is
 * checked against the manifest before any import.
 */
export const PROGRAM_NAMES: readonly string[] = MANIFEST.programs.map((p) => p.name);

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

/** The loaders of one manifest's programs and workloads. */
export interface Loaders {
  loadProgram(name: string): Promise<ProgramFactory>;
  loadWorkload(kind: string): Promise<WorkloadModule>;
}

export function loadersOf(m: Manifest): Loaders {
  return {
    loadProgram: sharedLoads(async (name) => {
      const d = m.program(name);
      if (!d) throw new Error(`unknown switch program ${name} (known: ${m.programs.map((p) => p.name).join(', ')})`);
      try {
        return await d.load();
      } catch (e) {
        const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test((e as Error).message);
        throw new Error(missing ? `switch program ${name} is not implemented yet` : `switch program ${name} failed to load: ${(e as Error).message}`);
      }
    }),
    loadWorkload: sharedLoads(async (kind) => {
      const d = m.workload(kind);
      if (!d) throw new Error(`unknown workload ${kind} (known: ${m.workloads.map((w) => w.kind).join(', ')})`);
      try {
        return await d.load();
      } catch (e) {
        throw new Error(`workload ${kind} is not available: ${(e as Error).message}`);
      }
    }),
  };
}

const builtin = loadersOf(MANIFEST);
/** loaders of the shipped manifest, one per manifest so they share one promise per name */
const loaders = new WeakMap<Manifest, Loaders>([[MANIFEST, builtin]]);
export function loadersFor(m: Manifest): Loaders {
  let l = loaders.get(m);
  if (!l) {
    l = loadersOf(m);
    loaders.set(m, l);
  }
  return l;
}

export const loadProgram: (name: string) => Promise<ProgramFactory> = builtin.loadProgram;
export const loadWorkload: (kind: string) => Promise<WorkloadModule> = builtin.loadWorkload;
