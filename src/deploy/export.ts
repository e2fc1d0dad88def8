/**
 * Writes a runnable multi-container lab for a scenario into a directory: the Dockerfile, a
 * copy of the scenario (what every container reads), the compose or containerlab file, a
 * README, and an empty out/ for the report (created here so Docker does not create it as root).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadScenario } from '../scenario/load.js';
import { buildTopology } from '../topology/from-spec.js';
import { composeYaml } from './compose.js';
import { containerlabYaml, labName } from './containerlab.js';
import { buildSection, dockerfileText } from './dockerfile.js';
import { exportReadme, type ExportFormat } from './readme.js';

export type { ExportFormat } from './readme.js';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['compose', 'containerlab'];

export interface ExportResult {
  dir: string;
  /** the compose or containerlab file, relative to dir */
  topologyFile: string;
  /** every file written, relative to dir */
  files: string[];
}

/** Throws ScenarioError (from loadScenario) for a bad scenario, before writing anything. */
export function exportScenario(file: string, format: ExportFormat, outDir: string): ExportResult {
  const scenario = loadScenario(file);
  const topology = buildTopology(scenario.topology);
  const dir = resolve(outDir);
  const build = buildSection(dir);
  const topologyFile = format === 'compose' ? 'compose.yaml' : `${labName(scenario.name)}.clab.yml`;
  const text = format === 'compose' ? composeYaml(scenario, topology, { build }) : containerlabYaml(scenario, topology);

  mkdirSync(join(dir, 'out'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfileText());
  // A byte copy, not a re-serialisation: the containers load exactly what was validated here.
  copyFileSync(file, join(dir, 'scenario.yaml'));
  writeFileSync(join(dir, topologyFile), text);
  writeFileSync(join(dir, 'README.md'), exportReadme(format, scenario.name, build.context, topologyFile));
  return { dir, topologyFile, files: ['Dockerfile', 'scenario.yaml', topologyFile, 'README.md', 'out/'] };
}
