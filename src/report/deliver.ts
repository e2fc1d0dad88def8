/**
 * How a finished run's report leaves the process (`ina run`, `ina up`): the table first, on
 * stdout (stderr when the JSON goes to stdout), then the JSON file. Output paths are checked
 * before the run (output-path.ts), but a disk can still fill up: then the table is already
 * on screen and the failure is an OutputPathError (exit 2), never a lost result.
 */
import { writeOutputFile } from '../output-path.js';
import { renderReport } from './table.js';
import type { Report } from './types.js';

export function deliverReport(report: Report, json: string | undefined): void {
  const text = JSON.stringify(report, null, 2) + '\n';
  let table: string;
  try {
    table = renderReport(report) + '\n';
  } catch (e) {
    // the JSON is the record: it is written even if the table cannot be drawn
    if (json && json !== '-') writeOutputFile('--json', json, text);
    else if (json === '-') process.stdout.write(text);
    throw e;
  }
  if (json === '-') {
    process.stderr.write(table);
    process.stdout.write(text);
    return;
  }
  process.stdout.write(table);
  if (json) writeOutputFile('--json', json, text);
}
