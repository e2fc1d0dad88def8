import type { ProgramFactory } from '../pipeline/program.js';
import type { WorkloadModule } from './workload.js';
// the schema owns the list of workload kinds a scenario may name
import { WORKLOAD_KINDS } from '../scenario/schema.js';

/**
 * Programs and workloads are loaded by name, so src/ never imports pipelines/ or hosts/
 * (arrows point down). Names are checked against the known lists before any import.
 */
export const PROGRAM_NAMES = ['l3', 'ecmp', 'flowlet', 'drill', 'conga', 'switchml', 'sharp'] as const;

const programs = new Map<string, ProgramFactory>();
const workloads = new Map<string, WorkloadModule>();

async function importByName(dir: string, name: string): Promise<{ default: unknown }> {
  const url = new URL(`../../${dir}/${name}.js`, import.meta.url);
  return (await import(url.href)) as { default: unknown };
}

export async function loadProgram(name: string): Promise<ProgramFactory> {
  const cached = programs.get(name);
  if (cached) return cached;
  if (!(PROGRAM_NAMES as readonly string[]).includes(name)) throw new Error(`unknown switch program ${name} (known: ${PROGRAM_NAMES.join(', ')})`);
  let mod;
  try {
    mod = await importByName('pipelines', name);
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test((e as Error).message);
    throw new Error(missing ? `switch program ${name} is not implemented yet` : `switch program ${name} failed to load: ${(e as Error).message}`);
  }
  const p = mod.default as ProgramFactory;
  programs.set(name, p);
  return p;
}

export async function loadWorkload(kind: string): Promise<WorkloadModule> {
  const cached = workloads.get(kind);
  if (cached) return cached;
  if (!(WORKLOAD_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown workload ${kind} (known: ${WORKLOAD_KINDS.join(', ')})`);
  let mod;
  try {
    mod = await importByName('hosts', kind);
  } catch (e) {
    throw new Error(`workload ${kind} is not available: ${(e as Error).message}`);
  }
  const w = mod.default as WorkloadModule;
  workloads.set(kind, w);
  return w;
}
