/**
 * `ina up`: the same scenario with every switch and host its own process, against `ina run`
 * in one process; and what happens when a node dies or the run is interrupted.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ina, ROOT, scratch, STACK_FRAME } from '../cli/helpers.js';
import type { Report } from '../../src/report/types.js';
import { ACK_FRAME_BYTES } from '../../hosts/allreduce/ring-allreduce.js';
import { listNamespaces, removeNamespaces } from '../../src/cluster/netns.js';
import { NEEDS_ROOT, skipUnless } from '../skip-unless.js';
import { MUTE_ENV } from '../../src/cluster/test-mute.js';

const files = scratch('cluster-test');
afterAll(() => files.cleanup());

/** Whatever a failed test left running is killed, so the next test starts clean. */
const children: ChildProcess[] = [];
function track<T extends ChildProcess>(c: T): T {
  children.push(c);
  return c;
}
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (isRoot) removeNamespaces(listNamespaces());
});

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Every all-reduce algorithm and pingall, small enough to run in seconds. */
const SMALL = files.write(
  'small.yaml',
  `name: up-small
mode: udp
seed: 3
topology: { kind: leaf-spine, leaves: 2, spines: 2, hostsPerLeaf: 2 }
switches: { aggregation: { slots: 256, elementsPerPacket: 64 } }
workloads:
  - kind: pingall
    count: 2
  - kind: allreduce
    algorithms: [ring, switchml, sharp]
    bytes: 300KiB
    dtype: float32
    iterations: 2
  - kind: allreduce
    algorithms: [ring, switchml]
    bytes: 65540
    dtype: int32
    iterations: 1
    workers: [h0, h1, h3]
`,
);

/** Long enough that a node can be killed mid-run. */
const LONG = files.write(
  'long.yaml',
  `name: up-long
mode: udp
seed: 1
topology: { kind: star, hosts: 3 }
workloads:
  - kind: allreduce
    algorithms: [ring]
    bytes: 8MiB
    dtype: float32
    iterations: 40
`,
);

function readReport(path: string): Report & { deployment?: { kind: string; nodes: number; shaping: string } } {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Processes still running `ina node` for a scenario file. */
function nodeProcesses(file: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', `ina.js node --scenario ${file}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function inaNamespaces(): string[] {
  if (!isRoot) return [];
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('ina-'));
}

/** Compares a multi-process report with a one-process report of the same scenario. */
function expectSameRuns(up: Report, one: Report): void {
  expect(up.runs.length).toBe(one.runs.length);
  up.runs.forEach((r, i) => {
    const o = one.runs[i] as unknown as Record<string, unknown>;
    const u = r as unknown as Record<string, unknown>;
    expect(u.error, String(u.error)).toBeUndefined();
    expect(u.correct).toBe(true);
    for (const k of ['workload', 'algorithm', 'workers', 'bytes', 'dtype', 'iterations', 'pairs', 'sent', 'fallback']) expect(u[k], `${i}.${k}`).toEqual(o[k]);
    if (u.workload === 'allreduce') {
      expect((u.timesSec as number[]).length).toBe(u.iterations);
      expect(Object.keys(u.tierBytes as object).sort()).toEqual(Object.keys(o.tierBytes as object).sort());
      // what every worker sent, summed over processes, is what one process counts; not for the
      // ring, whose acknowledgements are paced by timing, nor after a retransmission
      if (u.algorithm !== 'ring' && u.retransmissions === 0 && o.retransmissions === 0) {
        expect(u.bytesSentPerWorker, `${i} bytesSentPerWorker`).toBe(o.bytesSentPerWorker);
        // Tier counters are windows over a live fabric: the preceding ring's last lazy ACKs may
        // land in this run's window in one process and not the other. What differs must be
        // whole ring ACKs, a few of them; any other difference is a merge error.
        for (const [tier, bytes] of Object.entries(o.tierBytes as Record<string, number>)) {
          const d = Math.abs((u.tierBytes as Record<string, number>)[tier]! - bytes);
          expect(d % ACK_FRAME_BYTES, `${i} tierBytes.${tier}: ${d} bytes apart, not whole ring ACKs`).toBe(0);
          expect(d / ACK_FRAME_BYTES, `${i} tierBytes.${tier}: ${d} bytes apart`).toBeLessThanOrEqual(16);
        }
      }
      expect(u.placement).toEqual(o.placement);
    }
  });
  expect(up.links.map((l) => [l.a, l.b])).toEqual(one.links.map((l) => [l.a, l.b]));
  expect(up.switches.map((s) => s.name)).toEqual(one.switches.map((s) => s.name));
  // every frame a switch took in is counted by the switch's own process
  expect(up.switches.reduce((s, x) => s + x.packetsIn, 0)).toBeGreaterThan(0);
}

describe('ina up --mode process', () => {
  it('runs pingall and ring/switchml/sharp all-reduce with every node its own process: the report of ina run', async () => {
    const upJson = `${files.dir}/up.json`;
    const oneJson = `${files.dir}/one.json`;
    const up = await ina(['up', SMALL, '--mode', 'process', '--json', upJson], { timeoutMs: 120_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).not.toMatch(STACK_FRAME);
    const one = await ina(['run', SMALL, '--json', oneJson], { timeoutMs: 120_000 });
    expect(one.code, one.stderr).toBe(0);
    const u = readReport(upJson);
    expect(u.deployment).toEqual({ kind: 'process', nodes: 8, shaping: 'software' });
    expectSameRuns(u, readReport(oneJson));
    expect(up.stdout).toMatch(/switchml vs ring: [x×]/);
    expect(nodeProcesses(SMALL)).toEqual([]);
  }, 240_000);

  it('a node that dies mid-run is named, the others are stopped, and ina up exits 1 within seconds', async () => {
    const child = track(spawn(process.execPath, ['bin/ina.js', 'up', LONG, '--mode', 'process', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    // wait until the nodes run, then kill h1
    let victim: string | undefined;
    for (let i = 0; i < 100 && !victim; i++) {
      await new Promise((r) => setTimeout(r, 200));
      victim = (() => {
        try {
          return execFileSync('pgrep', ['-f', `ina.js node --scenario ${LONG} --node h1 `], { encoding: 'utf8' }).split('\n')[0] || undefined;
        } catch {
          return undefined;
        }
      })();
    }
    expect(victim, 'node h1 was started').toBeDefined();
    await new Promise((r) => setTimeout(r, 3000));
    const killedAt = Date.now();
    process.kill(Number(victim), 'SIGKILL');
    const code = await exited;
    expect(code).toBe(1);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(stderr).toMatch(/node h1\b.*(killed by SIGKILL|control connection lost)/);
    expect(nodeProcesses(LONG)).toEqual([]);
  }, 60_000);

  it('a worker that stops contributing mid-job is named from the aggregator\'s slot, read in the switch\'s own process (issue 12 item 3)', async () => {
    const f = files.write(
      'mute.yaml',
      `name: up-mute
seed: 3
topology: { kind: leaf-spine, leaves: 2, spines: 2, hostsPerLeaf: 2 }
switches: { aggregation: { slots: 64, elementsPerPacket: 64 } }
workloads:
  - kind: allreduce
    algorithms: [switchml]
    bytes: 256KiB
    dtype: int32
    iterations: 2
`,
    );
    const json = `${files.dir}/mute.json`;
    // h1's node sends its first 100 aggregation frames, then none (as a worker stopped mid-job)
    process.env[MUTE_ENV] = 'h1:100';
    let r: Awaited<ReturnType<typeof ina>>;
    try {
      r = await ina(['up', f, '--mode', 'process', '--json', json], { timeoutMs: 120_000 });
    } finally {
      delete process.env[MUTE_ENV];
    }
    expect(r.code, r.stderr).toBe(1);
    const [run] = readReport(json).runs as Array<{ algorithm?: string; correct: boolean; error?: string }>;
    expect(run).toMatchObject({ algorithm: 'switchml', correct: false });
    expect(run!.error).toMatch(/got no result from aggregator spine0 .* the round on spine0 waits for h1 \(contributions arrived from h0, h2, h3\); spine0 itself answers/);
    expect(run!.error).not.toMatch(/not readable/);
    expect(nodeProcesses(f)).toEqual([]);
  }, 150_000);

  it('a workload comparing load-balancing schemes gets a fresh fabric per scheme on every node', async () => {
    const f = files.write(
      'schemes.yaml',
      'name: schemes\ntopology: { kind: leaf-spine, leaves: 2, spines: 2, hostsPerLeaf: 2 }\nworkloads:\n  - kind: moe\n    tokensPerRank: 48\n    hidden: 16\n    experts: 4\n    topK: 2\n    loadBalancing: [ecmp, drill]\n',
    );
    const json = `${files.dir}/schemes.json`;
    const r = await ina(['up', f, '--mode', 'process', '--json', json], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const rep = readReport(json);
    expect(rep.runs.map((x) => [x.workload, (x as { loadBalancing?: string }).loadBalancing, x.correct])).toEqual([
      ['moe', 'ecmp', true],
      ['moe', 'drill', true],
    ]);
    expect(nodeProcesses(f)).toEqual([]);
  }, 150_000);

});

describe('ina up --mode attach', () => {
  it('waits for nodes started by someone else (as containers or other machines are), runs, and tells them to go', async () => {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const basePort = 40000 + Math.floor(Math.random() * 20000);
    const json = `${files.dir}/attach.json`;
    const f = files.write('attach.yaml', 'name: attach\ntopology: { kind: star, hosts: 3 }\nworkloads:\n  - kind: pingall\n    count: 2\n  - kind: allreduce\n    algorithms: [ring, switchml]\n    bytes: 40000\n    dtype: int32\n    iterations: 2\n');
    const coordinator = ina(['up', f, '--mode', 'attach', '--listen', `tcp:127.0.0.1:${port}`, '--json', json], { timeoutMs: 90_000 });
    const nodes = ['s0', 'h0', 'h1', 'h2'].map((n) =>
      ina(['node', '--scenario', f, '--node', n, '--control', `tcp:127.0.0.1:${port}`, '--addressing', `loopback:${basePort}`], { timeoutMs: 90_000 }),
    );
    const up = await coordinator;
    expect(up.code, up.stderr).toBe(0);
    for (const n of await Promise.all(nodes)) expect(n.code, n.stderr).toBe(0);
    const rep = readReport(json);
    expect(rep.deployment).toEqual({ kind: 'attach', nodes: 4, shaping: 'software' });
    expect(rep.runs.map((r) => r.correct)).toEqual([true, true, true]);
  }, 120_000);

  it('a second node with a name already taken is turned away with the reason (exit 2); the run goes on', async () => {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const basePort = 40000 + Math.floor(Math.random() * 20000);
    const f = files.write('twice.yaml', 'name: twice\ntopology: { kind: star, hosts: 2 }\nworkloads:\n  - kind: pingall\n');
    const node = (n: string): ReturnType<typeof ina> => ina(['node', '--scenario', f, '--node', n, '--control', `tcp:127.0.0.1:${port}`, '--addressing', `loopback:${basePort}`], { timeoutMs: 60_000 });
    const up = ina(['up', f, '--mode', 'attach', '--listen', `tcp:127.0.0.1:${port}`], { timeoutMs: 60_000 });
    const first = node('h0');
    await new Promise((r) => setTimeout(r, 2500));
    const second = await node('h0');
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toMatch(/turned this node away: node h0 is already connected/);
    const rest = [node('s0'), node('h1')];
    const r = await up;
    expect(r.code, r.stderr).toBe(0);
    for (const n of [await first, ...(await Promise.all(rest))]) expect(n.code, n.stderr).toBe(0);
  }, 90_000);

  it('a node that names no node of the scenario is turned away, and says why', async () => {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const f = files.write('one.yaml', 'name: one\ntopology: { kind: star, hosts: 2 }\nworkloads:\n  - kind: pingall\n');
    const node = await ina(['node', '--scenario', f, '--node', 'h9', '--control', `tcp:127.0.0.1:${port}`]);
    expect(node.code).toBe(2);
    expect(node.stderr).toMatch(/no node "h9" in scenario one \(nodes: s0, h0, h1\)/);
  });
});

describe('ina up --mode netns', () => {
  it('runs the quickstart\'s udp all-reduce across network namespaces with correct results, and leaves no namespace', async (ctx) => {
    skipUnless(ctx, isRoot, NEEDS_ROOT);
    const json = `${files.dir}/netns.json`;
    const r = await ina(['up', 'scenarios/quickstart-udp.yaml', '--mode', 'netns', '--json', json], { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const rep = readReport(json);
    expect(rep.deployment).toMatchObject({ kind: 'netns', nodes: 12 });
    const algos = rep.runs.filter((x) => x.workload === 'allreduce').map((x) => (x as { algorithm: string }).algorithm);
    expect(algos).toEqual(['ring', 'switchml', 'sharp']);
    for (const run of rep.runs) expect(run.correct, JSON.stringify(run).slice(0, 300)).toBe(true);
    expect(inaNamespaces()).toEqual([]);
  }, 360_000);

  it('shaped links are shaped by the kernel (tc on each node\'s interfaces; what netem would do falls back to software where the kernel has none)', async (ctx) => {
    skipUnless(ctx, isRoot, NEEDS_ROOT);
    const f = files.write(
      'shaped.yaml',
      'name: shaped\ntopology: { kind: star, hosts: 3 }\nlinks: { rateGbps: 0.2, delayUs: 300, lossRate: 0.01, queueBytes: 16384 }\nworkloads:\n  - kind: pingall\n    count: 3\n  - kind: allreduce\n    algorithms: [ring]\n    bytes: 512KiB\n    dtype: int32\n    iterations: 2\n',
    );
    const json = `${files.dir}/shaped.json`;
    const r = await ina(['up', f, '--mode', 'netns', '--json', json], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const rep = readReport(json);
    expect(rep.deployment?.shaping).toMatch(/^kernel/);
    for (const run of rep.runs) expect(run.correct).toBe(true);
    const ring = rep.runs[1] as unknown as { timeSec: number };
    // 2(N-1)/N · 512 KiB through a 0.2 Gbit/s bucket takes at least ~28 ms: the kernel's rate holds
    expect(ring.timeSec).toBeGreaterThan(((2 * 2) / 3) * 524288 * 8 / 0.2e9);
    // the ring's bursts overflow the 16 KiB buckets: the kernel's drops are in the link table
    // (the nodes' own ports have no queue when the kernel shapes)
    expect(rep.links.reduce((n, l) => n + l.drops.ab + l.drops.ba, 0)).toBeGreaterThan(0);
    // a run with the kernel's qdiscs leaves none behind: the namespaces (and their links) are gone
    expect(inaNamespaces()).toEqual([]);
  }, 150_000);

  it('a node killed mid-run: named, exit 1, no process or namespace left; ina down cleans up after a killed coordinator', async (ctx) => {
    skipUnless(ctx, isRoot, NEEDS_ROOT);
    const child = track(spawn(process.execPath, ['bin/ina.js', 'up', LONG, '--mode', 'netns', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let ns: string[] = [];
    for (let i = 0; i < 100 && ns.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 200));
      ns = inaNamespaces();
    }
    expect(ns.length).toBe(4);
    await new Promise((r) => setTimeout(r, 3000));
    const victim = execFileSync('ip', ['netns', 'pids', ns.find((n) => n.endsWith('-h2'))!], { encoding: 'utf8' }).trim().split('\n')[0]!;
    process.kill(Number(victim), 'SIGKILL');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/node h2\b/);
    expect(inaNamespaces()).toEqual([]);
    expect(nodeProcesses(LONG)).toEqual([]);

    // A coordinator killed outright cannot clean up: its nodes go (their control channel
    // closes), and `ina down` removes the namespaces.
    const c2 = track(spawn(process.execPath, ['bin/ina.js', 'up', LONG, '--mode', 'netns', '--quiet'], { cwd: ROOT, stdio: 'ignore' }));
    const gone = new Promise((r) => c2.on('close', r));
    for (let i = 0; i < 100 && inaNamespaces().length < 4; i++) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500));
    c2.kill('SIGKILL');
    await gone;
    expect(inaNamespaces().length).toBe(4);
    const down = await ina(['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toMatch(/removed 4 namespaces/);
    // and the killed coordinator's control-socket folder
    expect(down.stderr).toMatch(/removed \d+ control-socket folders/);
    expect(inaNamespaces()).toEqual([]);
    for (let i = 0; i < 50 && nodeProcesses(LONG).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(nodeProcesses(LONG)).toEqual([]);
  }, 120_000);

  it('Ctrl-C (SIGINT) stops the nodes and removes the namespaces before ina up exits 130', async (ctx) => {
    skipUnless(ctx, isRoot, NEEDS_ROOT);
    const child = track(spawn(process.execPath, ['bin/ina.js', 'up', LONG, '--mode', 'netns', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      for (let i = 0; i < 150 && nodeProcesses(LONG).length < 4; i++) await new Promise((r) => setTimeout(r, 200));
      expect(nodeProcesses(LONG).length, stderr).toBe(4);
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/SIGINT, stopping the nodes/);
      expect(inaNamespaces()).toEqual([]);
      expect(nodeProcesses(LONG)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('without root: says so and exits 2 (as root, checked by dropping to nobody with setpriv)', async () => {
    const args = ['up', 'scenarios/quickstart.yaml', '--mode', 'netns'];
    const r = isRoot
      ? await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const c = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, 'bin/ina.js', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
          c.on('close', (code) => resolve({ code, stderr }));
        })
      : await ina(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/needs root/);
    expect(inaNamespaces()).toEqual([]);
  });
});
