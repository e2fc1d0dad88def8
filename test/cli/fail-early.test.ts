/**
 * Fail before the work (issue 12.6): output paths are checked before a run starts, a finished
 * run's table is printed before any file is written, and port ranges are checked whole.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputDir, checkOutputFile, OutputPathError } from '../../src/output-path.js';
import { ina, scratch, STACK_FRAME } from './helpers.js';

const T = 60_000;
const tmp = scratch('fail-early');
afterAll(() => tmp.cleanup());
const PINGALL = 'scenarios/pingall-star.yaml';

describe('output paths are checked before the run', () => {
  it('--json into a missing directory or onto a directory: exit 2 with the reason, nothing run', async () => {
    const missing = join(tmp.dir, 'no', 'such', 'r.json');
    let res = await ina(['run', PINGALL, '--mode', 'sim', '--json', missing]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(`ina: --json ${missing}: the directory ${join(tmp.dir, 'no', 'such')} does not exist\n`);
    expect(res.stdout).toBe(''); // no table: the run never started
    res = await ina(['run', PINGALL, '--mode', 'sim', '--json', tmp.dir]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(`ina: --json ${tmp.dir}: is a directory; expected a file path, e.g. ${join(tmp.dir, 'report.json')}\n`);
  }, T);

  it('--json where the file system refuses files (/sys, /proc): the reason in words, not an errno', async () => {
    const res = await ina(['run', PINGALL, '--mode', 'sim', '--json', '/sys/ina-report.json']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^ina: --json \/sys\/ina-report\.json: cannot create it in \/sys: (permission denied|the file system is read-only)\n$/);
    const up = await ina(['up', PINGALL, '--json', '/proc/ina-report.json']);
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(/^ina: --json \/proc\/ina-report\.json: cannot create it in \/proc: /);
    const bench = await ina(['bench', 'pipeline', '--packets', '1000', '--json', join(tmp.dir, 'none', 'b.json')]);
    expect(bench.code).toBe(2);
    expect(bench.stderr).toMatch(/does not exist\n$/);
    expect(bench.stderr).not.toMatch(/pipeline .* Mpps/); // refused before measuring
  }, T);

  it('a write that fails after the run (a full disk: /dev/full): the table is printed, then the error, exit 2', async () => {
    const res = await ina(['run', PINGALL, '--mode', 'sim', '--json', '/dev/full']);
    expect(res.stdout).toMatch(/^# pingall-star: /);
    expect(res.stdout).toMatch(/all runs correct/);
    expect(res.stderr).toBe('ina: --json /dev/full: cannot write it: no space left on the device\n');
    expect(res.code).toBe(2);
  }, T);

  it('export --out where nothing can be created: a clear message (and /proc no longer hangs mkdir)', async () => {
    for (const out of ['/sys/ina-lab', '/proc/ina-lab/sub']) {
      const res = await ina(['export', PINGALL, '--format', 'compose', '--out', out], { timeoutMs: 20_000 });
      expect(res.signal, `${out} hung`).toBeNull();
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(new RegExp(`^ina: --out ${out}: cannot create it in /(sys|proc): `));
      expect(res.stderr).not.toMatch(/ENOENT|EPERM|mkdir/);
      expect(res.stderr).not.toMatch(STACK_FRAME);
    }
    const file = tmp.write('plain.txt', 'x');
    const res = await ina(['export', PINGALL, '--format', 'compose', '--out', join(file, 'lab')]);
    expect(res.stderr).toBe(`ina: --out ${join(file, 'lab')}: ${file} is not a directory\n`);
  }, T);
});

describe('the checks leave nothing behind', () => {
  it('an existing file keeps its bytes; a new one is not left; a new directory is not made', () => {
    const kept = tmp.write('kept.json', 'precious');
    checkOutputFile('--json', kept);
    expect(readFileSync(kept, 'utf8')).toBe('precious');
    const fresh = join(tmp.dir, 'fresh.json');
    checkOutputFile('--json', fresh);
    expect(existsSync(fresh)).toBe(false);
    checkOutputDir('--out', join(tmp.dir, 'lab', 'deeper'));
    expect(existsSync(join(tmp.dir, 'lab'))).toBe(false);
    checkOutputFile('--json', '-');
    checkOutputFile('--json', undefined);
    writeFileSync(join(tmp.dir, 'f'), '');
    expect(() => checkOutputDir('--out', join(tmp.dir, 'f'))).toThrow(OutputPathError);
  });
});

describe('ina addresses checks the whole port range', () => {
  it('loopback:65530 for 12 links needs ports past 65535: exit 2 with the highest base that fits', async () => {
    const res = await ina(['addresses', 'scenarios/quickstart.yaml', '--addressing', 'loopback:65530']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^ina: --addressing loopback:65530 needs ports 65530\.\.\d+ \(2 × \d+ links × 1 fabric\), past 65535; the highest base port that fits is \d+\n$/);
    // ina node checks the same before it binds anything
    const node = await ina(['node', '--scenario', 'scenarios/quickstart.yaml', '--node', 'h0', '--control', 'tcp:127.0.0.1:1', '--addressing', 'loopback:65530']);
    expect(node.code).toBe(2);
    expect(node.stderr).toBe(res.stderr);
    const highest = Number(/fits is (\d+)/.exec(res.stderr)![1]);
    const ok = await ina(['addresses', 'scenarios/quickstart.yaml', '--addressing', `loopback:${highest}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n').at(-1)).toMatch(/:65535"$/);
  }, T);
});
