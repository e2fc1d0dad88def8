import { execFileSync } from 'node:child_process';
import type { Topology } from '../topology/types.js';
import { LINK_PREFIX, linkSubnet } from './link-addresses.js';
import { removeRunMarker, writeRunMarker } from './run-markers.js';

/**
 * Network namespaces for `ina up --mode netns`: one per node, named `ina-<run>-<node>`, one
 * veth pair per link (interface `p<port>` on each side, MTU 9000 so no frame is fragmented),
 * addressed from the `links` plan. Everything made here carries the `ina-` prefix, which is
 * how `ina down` finds what a killed run left behind, and the run is tagged with a marker
 * naming its coordinator (run-markers.ts), which is how it tells a live run from a dead one.
 */
export const NETNS_PREFIX = 'ina-';
const VETH_MTU = '9000';

export class NeedsRootError extends Error {}

export function ip(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    throw new Error(`ip ${args.join(' ')}: ${err}`);
  }
}

/** Fails clearly unless this process may create namespaces (root and iproute2). */
export function checkNetnsAllowed(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new NeedsRootError('ina up --mode netns creates network namespaces and veth pairs, which needs root: run it with sudo (or use --mode process)');
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new NeedsRootError('ina up --mode netns needs the ip command (Debian package iproute2)');
  }
}

export function namespaceOf(run: string, node: string): string {
  return `${NETNS_PREFIX}${run}-${node}`;
}

/**
 * Creates the namespaces and links of a topology, after the run's marker (so no namespace is
 * ever unclaimed); on failure removes what it made. removeRun undoes it.
 */
export function createNamespaces(run: string, topology: Topology, cut: (linkIndex: number) => boolean = () => false): string[] {
  const made: string[] = [];
  writeRunMarker(run);
  try {
    for (const n of topology.nodes) {
      const ns = namespaceOf(run, n.name);
      ip(['netns', 'add', ns]);
      made.push(ns);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    topology.links.forEach((l, i) => {
      const na = namespaceOf(run, l.a);
      const nb = namespaceOf(run, l.b);
      const ia = `p${l.aPort}`;
      const ib = `p${l.bPort}`;
      ip(['link', 'add', ia, 'netns', na, 'mtu', VETH_MTU, 'type', 'veth', 'peer', 'name', ib, 'netns', nb, 'mtu', VETH_MTU]);
      const s = linkSubnet(i);
      ip(['-n', na, 'addr', 'add', `${s.a}/${LINK_PREFIX}`, 'dev', ia]);
      ip(['-n', nb, 'addr', 'add', `${s.b}/${LINK_PREFIX}`, 'dev', ib]);
      // A cut link is wired but down, as the software fabric wires it but drops everything.
      if (!cut(i)) {
        ip(['-n', na, 'link', 'set', ia, 'up']);
        ip(['-n', nb, 'link', 'set', ib, 'up']);
      }
    });
  } catch (e) {
    removeRun(run, made);
    throw e;
  }
  return made;
}

/** Removes a run's namespaces, then its marker. */
export function removeRun(run: string, namespaces: readonly string[]): string[] {
  const removed = removeNamespaces(namespaces);
  removeRunMarker(run);
  return removed;
}

/** Kills whatever still runs in the namespaces and deletes them; returns those it removed. */
export function removeNamespaces(names: readonly string[]): string[] {
  const removed: string[] = [];
  for (const ns of names) {
    try {
      for (const pid of ip(['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    } catch {
      /* no such namespace */
    }
    try {
      ip(['netns', 'del', ns]);
      removed.push(ns);
    } catch {
      /* already gone */
    }
  }
  return removed;
}

/** Every namespace an ina run made (all runs, or one run's). */
export function listNamespaces(run?: string): string[] {
  let out: string;
  try {
    out = ip(['netns', 'list']);
  } catch {
    return [];
  }
  const prefix = run === undefined ? NETNS_PREFIX : `${NETNS_PREFIX}${run}-`;
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
