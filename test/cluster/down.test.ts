/**
 * `ina down` on real network namespaces (root only; skipped with the reason otherwise): a live
 * run's namespaces and untagged ones stay, a dead run's go. Markers live in a scratch
 * INA_RUN_DIR, and only namespaces made here are touched: `ina down --all` is not run, since it
 * would take every ina namespace on the machine (planDown's tests cover it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listNamespaces, removeNamespaces } from '../../src/cluster/netns.js';
import { ina } from '../cli/helpers.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasIp = spawnSync('ip', ['-V']).status === 0;

describe('ina down', () => {
  it('keeps a live run and untagged namespaces, removes a dead run and its marker', async (ctx) => {
    if (!isRoot || !hasIp) ctx.skip(`needs root and iproute2 to create network namespaces (root: ${isRoot}, ip: ${hasIp})`);
    const dir = mkdtempSync(join(tmpdir(), 'ina-down-'));
    const runDir = join(dir, 'run');
    // ids unlike the 4-character ones ina up draws, so no real run is touched
    const tag = `t${process.pid.toString(36)}`;
    const [liveRun, deadRun, untaggedRun] = [`${tag}l`, `${tag}d`, `${tag}u`];
    const mine = [`ina-${liveRun}-h0`, `ina-${liveRun}-s0`, `ina-${deadRun}-h0`, `ina-${deadRun}-s0`, `ina-${untaggedRun}-h0`];
    try {
      for (const ns of mine) execFileSync('ip', ['netns', 'add', ns]);
      execFileSync('mkdir', ['-p', runDir]);
      writeFileSync(join(runDir, `${liveRun}.json`), JSON.stringify({ run: liveRun, pid: process.pid }));
      const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
      writeFileSync(join(runDir, `${deadRun}.json`), JSON.stringify({ run: deadRun, pid: gone, pidStart: '0' }));
      process.env.INA_RUN_DIR = runDir;
      expect(mine.filter((n) => listNamespaces().includes(n))).toEqual(mine);
      const res = await ina(['down']);
      expect(res.code, res.stderr).toBe(0);
      const removed = /removed (\d+) namespaces: (.*)\n/.exec(res.stderr);
      expect(removed?.[1], `${res.stderr}\nnow: ${listNamespaces().join(' ')}`).toBe('2');
      expect(removed![2]!.split(', ').sort()).toEqual([`ina-${deadRun}-h0`, `ina-${deadRun}-s0`]);
      expect(res.stderr).toContain(`left the 2 namespaces of run ${liveRun} alone: its coordinator (pid ${process.pid}) is running; ina down --all removes them too`);
      expect(res.stderr).toMatch(new RegExp(`left \\d+ namespaces no run claims alone \\([^)]*ina-${untaggedRun}-h0`));
      const now = listNamespaces();
      expect(mine.filter((n) => now.includes(n))).toEqual([`ina-${liveRun}-h0`, `ina-${liveRun}-s0`, `ina-${untaggedRun}-h0`]);
      expect(existsSync(join(runDir, `${deadRun}.json`))).toBe(false);
      expect(existsSync(join(runDir, `${liveRun}.json`))).toBe(true);
    } finally {
      delete process.env.INA_RUN_DIR;
      removeNamespaces(mine.filter((n) => listNamespaces().includes(n)));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
