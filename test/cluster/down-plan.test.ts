/**
 * `ina down` removes only what is dead (issue 11.5): the decision, as a pure function over the
 * namespaces and run markers found, tested without root; and the markers themselves.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planDown, runOfNamespace } from '../../src/cluster/down-plan.js';
import { markerIsAlive, processStartTime, readRunMarkers, removeRunMarker, writeRunMarker, type RunMarker } from '../../src/cluster/run-markers.js';

const live: RunMarker = { run: 'ab12', pid: 100 };
const dead: RunMarker = { run: 'cd34', pid: 200 };
const alive = (m: RunMarker) => m.pid === 100;
const NS = ['ina-ab12-h0', 'ina-ab12-leaf-0', 'ina-cd34-h0', 'ina-cd34-s0', 'ina-zz99-h0', 'other-ns'];

describe('planDown', () => {
  it('removes a dead run, keeps a live one and the namespaces no marker claims', () => {
    const plan = planDown(NS, [live, dead], alive, false);
    expect(plan.remove).toEqual(['ina-cd34-h0', 'ina-cd34-s0']);
    expect(plan.markers).toEqual(['cd34']);
    expect(plan.live).toEqual([{ run: 'ab12', pid: 100, namespaces: ['ina-ab12-h0', 'ina-ab12-leaf-0'] }]);
    expect(plan.untagged).toEqual(['ina-zz99-h0']);
  });

  it('--all removes every ina namespace and marker, and nothing that is not ina\'s', () => {
    const plan = planDown(NS, [live, dead], alive, true);
    expect(plan.remove).toEqual(NS.filter((n) => n.startsWith('ina-')));
    expect(plan.markers).toEqual(['ab12', 'cd34']);
    expect(plan.live).toEqual([]);
    expect(plan.untagged).toEqual([]);
  });

  it('a dead run that left no namespace loses its marker; a live one still starting keeps it', () => {
    const plan = planDown([], [live, dead], alive, false);
    expect(plan).toEqual({ remove: [], markers: ['cd34'], live: [], untagged: [] });
  });

  it('run ids are read up to the first dash (node names may have dashes)', () => {
    expect(runOfNamespace('ina-ab12-leaf-0')).toBe('ab12');
    expect(runOfNamespace('ina-ab12')).toBeUndefined();
    expect(runOfNamespace('nope-ab12-h0')).toBeUndefined();
  });
});

describe('run markers', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ina-markers-'));
    process.env.INA_RUN_DIR = join(dir, 'run', 'ina');
  });
  afterEach(() => {
    delete process.env.INA_RUN_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it('written with this process as owner, read back, alive; removed', () => {
    writeRunMarker('ef56');
    const [m] = readRunMarkers();
    expect(m).toMatchObject({ run: 'ef56', pid: process.pid });
    expect(markerIsAlive(m!)).toBe(true);
    removeRunMarker('ef56');
    expect(readRunMarkers()).toEqual([]);
  });

  it('a finished process, or a pid reused by another process, is not alive; junk files are skipped', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeRunMarker('gh78', gone);
    expect(markerIsAlive(readRunMarkers()[0]!)).toBe(false);
    // this very pid, but recorded with another start time: a reused pid
    expect(markerIsAlive({ run: 'ij90', pid: process.pid, pidStart: `${Number(processStartTime(process.pid) ?? 0) + 1}` })).toBe(process.platform !== 'linux');
    writeFileSync(join(process.env.INA_RUN_DIR!, 'junk.json'), '{not json');
    expect(readRunMarkers().map((x) => x.run)).toEqual(['gh78']);
    expect(readdirSync(process.env.INA_RUN_DIR!).sort()).toEqual(['gh78.json', 'junk.json']);
  });
});
