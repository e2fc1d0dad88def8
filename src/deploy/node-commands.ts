/**
 * The command lines of the multi-process runtime as containers run them (the image's
 * entrypoint is `node bin/ina.js`, so these are its arguments). Compose and containerlab differ
 * only in how a node reaches the coordinator.
 */
import type { Shaping } from './shaping.js';

/** Where every container finds the scenario (a read-only bind of the export's copy). */
export const SCENARIO_PATH = '/ina/scenario.yaml';
/** The coordinator writes its report here; exports bind it to ./out. */
export const REPORT_DIR = '/ina/out';
/** A node writes this once its ports are bound and the coordinator acknowledged it. */
export const READY_FILE = '/tmp/ina-ready';
export const CONTROL_PORT = 7000;

export function nodeArgs(node: string, coordinatorHost: string, shaping: Shaping): string[] {
  return [
    'node',
    '--scenario', SCENARIO_PATH,
    '--node', node,
    '--control', `tcp:${coordinatorHost}:${CONTROL_PORT}`,
    '--addressing', 'links',
    '--shaping', shaping,
    '--ready-file', READY_FILE,
  ];
}

export function coordinatorArgs(): string[] {
  return ['up', SCENARIO_PATH, '--mode', 'attach', '--listen', `tcp:0.0.0.0:${CONTROL_PORT}`, '--json', `${REPORT_DIR}/report.json`];
}
