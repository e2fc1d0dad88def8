/**
 * Which `ina up --mode netns` run owns which namespaces, and whether it is still alive: each
 * run writes a marker, `<INA_RUN_DIR or /run/ina>/<run>.json`, naming the coordinator's pid
 * and that process's start time (so a pid reused by another program does not pass for the
 * run), before it creates a namespace, and removes it after it has removed them. /run is
 * cleared at boot, as network namespaces are, so markers and namespaces go away together.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunMarker {
  run: string;
  pid: number;
  /** the process's start time in clock ticks since boot (/proc/PID/stat field 22), when known */
  pidStart?: string;
}

export function runMarkerDir(): string {
  return process.env.INA_RUN_DIR ?? '/run/ina';
}

/** field 22 of /proc/PID/stat (after the command name, which may hold spaces and parentheses) */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function writeRunMarker(run: string, pid = process.pid): void {
  const dir = runMarkerDir();
  mkdirSync(dir, { recursive: true });
  const marker: RunMarker = { run, pid, pidStart: processStartTime(pid) };
  writeFileSync(join(dir, `${run}.json`), JSON.stringify(marker) + '\n');
}

export function removeRunMarker(run: string): void {
  rmSync(join(runMarkerDir(), `${run}.json`), { force: true });
}

/** Every readable marker; a file that is not one is skipped (ina down must not fail on it). */
export function readRunMarkers(): RunMarker[] {
  let names: string[];
  try {
    names = readdirSync(runMarkerDir()).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: RunMarker[] = [];
  for (const n of names) {
    try {
      const m = JSON.parse(readFileSync(join(runMarkerDir(), n), 'utf8')) as RunMarker;
      if (typeof m.run === 'string' && Number.isInteger(m.pid) && m.pid > 0) out.push(m);
    } catch {
      /* not a marker */
    }
  }
  return out;
}

/** The marker's coordinator still runs: its pid exists and (where /proc tells) started when recorded. */
export function markerIsAlive(m: RunMarker): boolean {
  try {
    process.kill(m.pid, 0);
  } catch (e) {
    // EPERM: it exists, but belongs to someone else
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (m.pidStart === undefined) return true;
  const now = processStartTime(m.pid);
  return now === undefined || now === m.pidStart;
}
