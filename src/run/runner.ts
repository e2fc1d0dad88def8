import type { LinkReport, Report, RunResult, SwitchReport } from '../report/types.js';
import { buildTopology } from '../topology/from-spec.js';
import type { Topology, TopologySpec } from '../topology/types.js';
import type { SimClock } from '../net/sim-clock.js';
import { Fabric, type FabricSpec } from './fabric.js';
import { RealDriver, SimDriver, type Driver } from './driver.js';
import { loadProgram, loadWorkload } from './registry.js';
import type { HostStack } from '../host/host-stack.js';
import { LOCAL_CLUSTER, type Cluster } from './cluster.js';
import { PartialRunsError } from './workload.js';
import type { RunHooks } from './hooks.js';

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
  /** a test's hooks, handed to every workload (WorkloadContext.hooks) */
  hooks?: RunHooks;
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

/**
 * The load-balancing schemes a workload compares (flows, moe: its `loadBalancing` list), when
 * they call for fabrics of their own: null when the workload runs on the scenario's fabric
 * (no list, or just the scheme the scenario's switches already run).
 */
export function variantsOf(w: Readonly<Record<string, unknown>>, scenarioScheme: string): string[] | null {
  const v = w.loadBalancing;
  if (!Array.isArray(v) || v.length === 0) return null;
  if (v.length === 1 && v[0] === scenarioScheme) return null;
  return v.map(String);
}

/** A cluster for one workload's copies, and how a copy that failed tells the others. */
export interface ScopedCluster {
  readonly cluster: Cluster;
  /** this copy failed: the others' waits on this scope end with the same message */
  abort(error: Error): void;
  /** calls `cb` if another copy fails this scope; returns a function that stops listening */
  onAbort?(cb: (message: string) => void): () => void;
}

/**
 * A driver whose waits also end when another process's copy of the workload fails: an agent
 * here would otherwise wait (for peers that have stopped) until its own timeout.
 */
function abortable(driver: Driver, scope: ScopedCluster): Driver {
  const onAbort = scope.onAbort;
  if (!onAbort) return driver;
  return {
    clock: driver.clock,
    wait: (d, timeoutNs) => {
      const off = onAbort((message) => d.reject(new Error(message)));
      return driver.wait(d, timeoutNs).finally(off);
    },
  };
}

/** What running a scenario's workloads needs: a fabric (all of it, or this process's part). */
export interface WorkloadEnv {
  readonly mode: 'sim' | 'udp';
  readonly topology: Topology;
  readonly fabric: Fabric;
  readonly driver: Driver;
  /**
   * a fabric whose switches run `scheme`, for workloads comparing schemes; `variant` (see
   * variantNumbers) names it the same way in every process of a multi-process run
   */
  readonly buildVariant?: (scheme: string, variant: number) => Promise<{ fabric: Fabric; driver: Driver }>;
  /** the collectives of one workload run, known by `scope` in every process */
  readonly cluster: (scope: string) => ScopedCluster;
  /** per-tier bytes of a fabric so far (in a multi-process run: read from the nodes) */
  readonly tierBytes: (fabric: Fabric) => Promise<Record<string, number>>;
  /** every link's counters of a fabric so far (in a multi-process run: read from the nodes) */
  readonly linkReports: (fabric: Fabric) => Promise<LinkReport[]>;
  readonly onProgress?: (label: string, fraction: number) => void;
  readonly hooks?: RunHooks;
}

const LOCAL_SCOPE: ScopedCluster = { cluster: LOCAL_CLUSTER, abort: () => {} };

/** Runs every workload of the scenario, batch by batch, and returns their results in order. */
/**
 * The fabrics a scenario's run builds besides its own (numbered 1, 2, ... in workload order,
 * one per scheme a workload compares), so that every process names them alike: `of(index, i)`
 * is scheme i of workload `index`, `count` how many there are.
 */
export function variantNumbers(scenario: Pick<RunnableScenario, 'workloads' | 'switches'>): { of(index: number, i: number): number; count: number } {
  const base: number[] = [];
  let next = 1;
  for (const w of scenario.workloads) {
    base.push(next);
    next += variantsOf(w, scenario.switches.loadBalancing)?.length ?? 0;
  }
  return { of: (index, i) => base[index]! + i, count: next - 1 };
}

export async function runWorkloads(scenario: RunnableScenario, env: WorkloadEnv): Promise<RunResult[]> {
  const { mode, topology } = env;
  const numbering = variantNumbers(scenario);
  const runs: RunResult[] = [];
  type Workload = RunnableScenario['workloads'][number];
  const runOn = async (f: Fabric, d: Driver, scheme: string, w: Workload, index: number, scope: ScopedCluster, label: string, progress: (x: number) => number): Promise<RunResult[]> => {
    const mod = await loadWorkload(w.kind);
    return mod.run(
      {
        mode,
        clock: f.clock,
        // the same stream on every fabric built from this seed: variants see the same workload
        rng: f.rng.fork(`workload:${index}`),
        topology,
        driver: abortable(d, scope),
        fabric: f,
        hosts: selectHosts(topology, f.hosts, w.workers ?? w.ranks),
        cluster: scope.cluster,
        tierBytes: () => env.tierBytes(f),
        linkReports: () => env.linkReports(f),
        loadBalancing: scheme,
        progress: (x) => env.onProgress?.(label, progress(x)),
        hooks: env.hooks,
      },
      w,
    );
  };
  for (const batch of batches(scenario.workloads)) {
    const results = await Promise.all(
      batch.map(async ({ w, index }) => {
        const label = `${w.kind}#${index}`;
        const scope = env.cluster(String(index));
        try {
          const variants = variantsOf(w, scenario.switches.loadBalancing);
          if (variants === null) return await runOn(env.fabric, env.driver, scenario.switches.loadBalancing, w, index, scope, label, (x) => x);
          if (!env.buildVariant) throw new Error(`workload ${w.kind} compares load-balancing schemes, which needs a fresh fabric per scheme, and this run cannot make one`);
          // One fresh fabric per scheme, its switches running that scheme, the same workload
          // (same seed) on each, one after another: a like-for-like comparison.
          const out: RunResult[] = [];
          for (const [i, scheme] of variants.entries()) {
            const v = await env.buildVariant(scheme, numbering.of(index, i));
            try {
              const rs = await runOn(v.fabric, v.driver, scheme, { ...w, loadBalancing: [scheme] }, index, scope, label, (x) => (i + x) / variants.length);
              for (const r of rs) out.push('loadBalancing' in r ? r : { ...r, loadBalancing: scheme });
            } finally {
              await v.fabric.close();
            }
          }
          return out;
        } catch (e) {
          scope.abort(e as Error);
          // What a workload finished before it failed is kept (its failed part has a row of its own).
          if (e instanceof PartialRunsError) return e.runs;
          // A workload that fails (a stalled peer, a missing program) is a wrong run, reported.
          return [{ workload: w.kind, correct: false, error: (e as Error).message }] as RunResult[];
        }
      }),
    );
    for (const r of results) runs.push(...r);
  }
  return runs;
}

/** The report of a scenario's runs on a fabric (whose counters cover every run). */
export function makeReport(scenario: RunnableScenario, mode: 'sim' | 'udp', seed: number, topology: Topology, runs: RunResult[], links: LinkReport[], switches: SwitchReport[]): Report {
  return {
    version: 1,
    scenario: scenario.name,
    mode,
    seed,
    topology: { kind: topology.kind, switches: topology.switches, hosts: topology.hosts, links: topology.links.length },
    runs,
    links,
    switches,
  };
}

/** The fabric a scenario's switches run on, with the program its workloads call for. */
export async function buildScenarioFabric(scenario: RunnableScenario, mode: 'sim' | 'udp', seed: number, topology: Topology, scheme: string, placement?: FabricSpec['placement']): Promise<{ fabric: Fabric; driver: Driver }> {
  const switches = { ...scenario.switches, loadBalancing: scheme };
  const fabric = await Fabric.build({
    topology,
    mode,
    seed,
    links: scenario.links,
    program: await loadProgram(programFor({ ...scenario, switches })),
    switchOptions: switches,
    ...(placement ? { placement } : {}),
  });
  const driver: Driver = mode === 'sim' ? new SimDriver(fabric.clock as SimClock) : new RealDriver(fabric.clock);
  return { fabric, driver };
}

export async function runScenario(scenario: RunnableScenario, opts: RunOptions = {}): Promise<Report> {
  const mode = opts.mode ?? scenario.mode;
  const seed = opts.seed ?? scenario.seed;
  const topology = buildTopology(scenario.topology);
  const { fabric, driver } = await buildScenarioFabric(scenario, mode, seed, topology, scenario.switches.loadBalancing);
  let runs: RunResult[];
  try {
    runs = await runWorkloads(scenario, {
      mode,
      topology,
      fabric,
      driver,
      buildVariant: (scheme) => buildScenarioFabric(scenario, mode, seed, topology, scheme),
      cluster: () => LOCAL_SCOPE,
      tierBytes: async (f) => f.tierBytes(),
      linkReports: async (f) => f.linkReports(),
      onProgress: opts.onProgress,
      hooks: opts.hooks,
    });
  } finally {
    await fabric.close();
  }
  return makeReport(scenario, mode, seed, topology, runs, fabric.linkReports(), fabric.switchReports());
}
