import { fmt } from './columns.js';
import type { Report, RunResult } from './types.js';
import type { Manifest } from '../manifest/manifest.js';
import { MANIFEST } from '../manifest/builtin.js';

/** A result no workload table claims (a failed run, or a kind without a table): its scalar fields. */
function genericLines(r: RunResult): string[] {
  const fields = Object.entries(r)
    .filter(([k, v]) => k !== 'workload' && k !== 'correct' && (typeof v === 'number' || typeof v === 'string'))
    .map(([k, v]) => `${k}=${fmt(v, 3)}`);
  return [`${r.workload}: ${fields.join(' ')}  ${r.correct ? 'OK' : 'WRONG'}`];
}

/**
 * The human-readable table `ina run` prints. Each workload kind's table is its descriptor's
 * (`table`, in the manifest): consecutive results it claims with one key share a table.
 */
export function renderReport(report: Report, manifest: Manifest = MANIFEST): string {
  const out: string[] = [];
  out.push(`# ${report.scenario}: ${report.topology.kind}, ${report.topology.switches.length} switches, ${report.topology.hosts.length} hosts, ${report.topology.links} links; mode ${report.mode}, seed ${report.seed}`);
  let i = 0;
  const runs = report.runs;
  const tableOf = (r: RunResult) => {
    const t = manifest.workload(r.workload)?.table;
    return t !== undefined && t.isRow(r) ? t : undefined;
  };
  while (i < runs.length) {
    const r = runs[i]!;
    const t = tableOf(r);
    if (t === undefined) {
      out.push(...genericLines(r));
      i++;
      continue;
    }
    const rows = [r];
    i++;
    const key = t.key?.(r);
    if (key !== undefined) {
      while (i < runs.length && runs[i]!.workload === r.workload && t.isRow(runs[i]!) && t.key!(runs[i]!) === key) rows.push(runs[i++]!);
    }
    out.push(...t.lines(rows, report.mode));
  }
  for (const w of manifest.workloads) {
    const t = w.table;
    if (t?.footer && runs.some((r) => r.workload === w.kind && t.isRow(r))) out.push(...t.footer(report.mode));
  }
  const drops = report.switches.reduce((s, w) => s + w.drops.parser + w.drops.table + w.drops.queue, 0);
  const packetsIn = report.switches.reduce((s, w) => s + w.packetsIn, 0);
  if (packetsIn === 0 && report.runs.length > 0 && report.runs.every((r) => 'loadBalancing' in r)) {
    // Every workload compared schemes, each on a fabric of its own: their link figures are
    // in each run, and the scenario's fabric (what `links`/`switches` describe) stayed idle.
    out.push(`# each comparison ran on its own fabric per scheme (per-link figures are in each run of the JSON report); all runs ${report.runs.every((r) => r.correct) ? 'correct' : 'NOT correct'}`);
    return out.join('\n');
  }
  const consumed = report.switches.reduce((s, w) => s + (w.consumed ?? 0), 0);
  out.push(`# switches: ${report.switches.reduce((s, w) => s + w.packetsIn, 0)} packets in, ${consumed ? `${consumed} aggregated, ` : ''}${drops} dropped; all runs ${report.runs.every((r) => r.correct) ? 'correct' : 'NOT correct'}`);
  return out.join('\n');
}
