/**
 * What `ina down` removes, decided without touching the system (so it is testable without
 * root): the namespaces of runs whose coordinator is gone; a live run's namespaces stay, and
 * so do namespaces without a marker (an ina from before markers, or made by hand: nothing
 * says whose they are). `--all` removes every ina namespace whatever its state.
 */
import { NETNS_PREFIX } from './netns.js';
import type { RunMarker } from './run-markers.js';

export interface DownPlan {
  /** namespaces to delete (their processes killed first) */
  remove: string[];
  /** markers to delete: runs whose namespaces go, and dead runs that left none */
  markers: string[];
  /** live runs left alone, with their namespaces */
  live: Array<{ run: string; pid: number; namespaces: string[] }>;
  /** namespaces no marker claims, left alone */
  untagged: string[];
}

/** `ina-<run>-<node>` → run (run ids have no dash; node names may) */
export function runOfNamespace(ns: string): string | undefined {
  if (!ns.startsWith(NETNS_PREFIX)) return undefined;
  const rest = ns.slice(NETNS_PREFIX.length);
  const dash = rest.indexOf('-');
  return dash > 0 ? rest.slice(0, dash) : undefined;
}

export function planDown(namespaces: readonly string[], markers: readonly RunMarker[], isAlive: (m: RunMarker) => boolean, all: boolean): DownPlan {
  const byRun = new Map(markers.map((m) => [m.run, m]));
  const alive = new Map(markers.map((m) => [m.run, isAlive(m)]));
  const plan: DownPlan = { remove: [], markers: [], live: [], untagged: [] };
  const liveByRun = new Map<string, { run: string; pid: number; namespaces: string[] }>();
  for (const ns of namespaces) {
    const run = runOfNamespace(ns);
    if (run === undefined) continue; // not an ina namespace
    const marker = byRun.get(run);
    if (all) plan.remove.push(ns);
    else if (!marker) plan.untagged.push(ns);
    else if (alive.get(run)) {
      let entry = liveByRun.get(run);
      if (!entry) liveByRun.set(run, (entry = { run, pid: marker.pid, namespaces: [] }));
      entry.namespaces.push(ns);
    } else plan.remove.push(ns);
  }
  for (const m of markers) if (all || !alive.get(m.run)) plan.markers.push(m.run);
  plan.live = [...liveByRun.values()];
  return plan;
}
