/** Shared by the export tests: a scratch directory and the topology of a scenario file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../src/scenario/load.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import type { Topology } from '../../src/topology/types.js';

// the quickstart's udp half: unshaped links, what a deployment of real processes runs
export const QUICKSTART = 'scenarios/quickstart-udp.yaml';
export const FAT_TREE = 'scenarios/sharp-fat-tree.yaml';
export const LINK_DOWN = 'scenarios/lb-link-down.yaml';

export function topologyOf(file: string): Topology {
  return buildTopology(loadScenario(file).topology);
}

export function scratchDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `ina-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
