import type { Report, RunResult } from '../report/types.js';
import { buildTopology } from '../topology/from-spec.js';
import type { Topology, TopologySpec } from '../topology/types.js';
import type { SimClock } from '../net/sim-clock.js';
import { Fabric, type FabricSpec } from './fabric.js';
import { RealDriver, SimDriver, type Driver } from './driver.js';
import { loadProgram, loadWorkload } from './registry.js';
import type { HostStack } from './host-stack.js';

/** The parts of a scenario the runner reads (the schema in src/scenario fills every default). */
export interface RunnableScenario {
  name: string;
  mode: 'sim' | 'udp';
  seed: number;
  topology: TopologySpec;
  links: FabricSpec['links'];
  switches: { loadBalancing: string } & Record<string, unknown>;
  workloads: ReadonlyArray<{ kind: string; group?: string; workers?: unknown; ranks?: unknown } & Record<string, unknown>>;
}

export interface RunOptions {
  mode?: 'sim' | 'udp';
  seed?: number;
  /** called with a label and a fraction in [0, 1] as workloads progress */
  onProgress?: (label: string, fraction: number) => void;
}

/** The program a scenario's switches run: its load-balancing choice (aggregation adds later). */
export function programFor(s: RunnableScenario): string {
  const aggregates = (alg: string): boolean =>
    s.workloads.some((w) => w.kind === 'allreduce' && Array.isArray(w.algorithms) && (w.algorithms as string[]).includes(alg));
  // One program per fabric: aggregation programs also forward (and balance) everything else.
  if (aggregates('sharp')) return 'sharp';
  if (aggregates('switchml')) return 'switchml';
  return s.switches.loadBalancing;
}

/** `all`, the first N hosts, or named hosts, in the order given. */
export function selectHosts(topo: Topology, all: ReadonlyMap<string, HostStack>, sel: unknown): HostStack[] {
  if (sel === undefined || sel === 'all') return topo.hosts.map((h) => all.get(h)!);
  if (typeof sel === 'number') return topo.hosts.slice(0, sel).map((h) => all.get(h)!);
  if (Array.isArray(sel)) return sel.map((h) => {
    const s = all.get(String(h));
    if (!s) throw new Error(`no host ${String(h)}`);
    return s;
  });
  throw new Error(`cannot select hosts from ${JSON.stringify(sel)}`);
}

/** Consecutive workloads sharing a `group` run concurrently; the rest one after another. */
export function batches<W extends { group?: string }>(ws: readonly W[]): Array<Array<{ w: W; index: number }>> {
  const out: Array<Array<{ w: W; index: number }>> = [];
  ws.forEach((w, index) => {
    const last = out[out.length - 1];
    if (last && w.group !== undefined && last[0]!.w.group === w.group) last.push({ w, index });
    else out.push([{ w, index }]);
  });
  return out;
}

export async function runScenario(scenario: RunnableScenario, opts: RunOptions = {}): Promise<Report> {
  const mode = opts.mode ?? scenario.mode;
  const seed = opts.seed ?? scenario.seed;
  const topology = buildTopology(scenario.topology);
  const program = await loadProgram(programFor(scenario));
  const fabric = await Fabric.build({
    topology,
    mode,
    seed,
    links: scenario.links,
    program,
    switchOptions: scenario.switches,
  });
  const driver: Driver = mode === 'sim' ? new SimDriver(fabric.clock as SimClock) : new RealDriver(fabric.clock);
  const runs: RunResult[] = [];
  try {
    for (const batch of batches(scenario.workloads)) {
      const results = await Promise.all(
        batch.map(async ({ w, index }) => {
          const label = `${w.kind}#${index}`;
          try {
            const mod = await loadWorkload(w.kind);
            return await mod.run(
              {
                mode,
                clock: fabric.clock,
                rng: fabric.rng.fork(`workload:${index}`),
                topology,
                driver,
                fabric,
                hosts: selectHosts(topology, fabric.hosts, w.workers ?? w.ranks),
                progress: (f) => opts.onProgress?.(label, f),
              },
              w,
            );
          } catch (e) {
            // A workload that fails (a stalled peer, a missing program) is a wrong run, reported.
            return [{ workload: w.kind, correct: false, error: (e as Error).message }] as RunResult[];
          }
        }),
      );
      for (const r of results) runs.push(...r);
    }
  } finally {
    await fabric.close();
  }
  return {
    version: 1,
    scenario: scenario.name,
    mode,
    seed,
    topology: { kind: topology.kind, switches: topology.switches, hosts: topology.hosts, links: topology.links.length },
    runs,
    links: fabric.linkReports(),
    switches: fabric.switchReports(),
  };
}
