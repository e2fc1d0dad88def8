import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { Topology } from '../topology/types.js';
import type { ControlAddress } from './control-channel.js';
import { formatControlAddress } from './control-channel.js';
import type { Addressing } from './link-addresses.js';
import { createNamespaces, namespaceOf, removeRun } from './netns.js';

/** How `ina up` gets its nodes running. */
export interface NodeLauncher {
  readonly kind: 'process' | 'netns' | 'attach';
  readonly addressing: Addressing;
  readonly shaping: 'software' | 'kernel';
  /** makes what every node needs before any starts (network namespaces) */
  prepare(): Promise<void>;
  /**
   * starts one node; `exited` is told when it ends (with how, and its last words). Absent when
   * someone else starts the nodes. The coordinator calls it a few nodes at a time, each once the
   * one before has reported ready (bounded-start.ts).
   */
  readonly startNode?: (node: string, control: ControlAddress, exited: (node: string, how: string) => void) => void;
  /** stops the nodes still running (TERM, then KILL after a grace period) and undoes start */
  stop(): Promise<void>;
  /** the same at once, synchronously (KILL): for a coordinator that is crashing */
  stopNow(): void;
}

const INA = fileURLToPath(new URL('../../bin/ina.js', import.meta.url));
const TAIL_LINES = 8;
const STOP_GRACE_MS = 3000;

interface Started {
  readonly node: string;
  readonly child: ChildProcess;
  readonly tail: string[];
  exited: boolean;
  readonly gone: Promise<void>;
}

/** Starts `ina node` processes (optionally through a prefix such as `ip netns exec NS`). */
class NodeProcesses {
  readonly started: Started[] = [];

  constructor(private readonly echo: boolean) {}

  spawn(node: string, prefix: readonly string[], args: readonly string[], exited: (node: string, how: string) => void): void {
    const cmd = [...prefix, process.execPath, INA, 'node', ...args];
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    const tail: string[] = [];
    let partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        tail.push(l);
        if (tail.length > TAIL_LINES) tail.shift();
        if (this.echo) process.stderr.write(`${l.startsWith('[') ? '' : `[${node}] `}${l}\n`);
      }
    });
    let resolveGone!: () => void;
    const s: Started = { node, child, tail, exited: false, gone: new Promise<void>((r) => (resolveGone = r)) };
    child.on('error', (e) => {
      if (s.exited) return;
      s.exited = true;
      resolveGone();
      exited(node, `could not start: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      if (s.exited) return;
      s.exited = true;
      resolveGone();
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const last = tail.filter((l) => l.trim()).slice(-3).join(' | ');
      exited(node, last ? `${how}: ${last}` : how);
    });
    this.started.push(s);
  }

  /** Nodes told to shut down get a moment to go by themselves; then TERM; then KILL. */
  async stop(): Promise<void> {
    const alive = this.started.filter((s) => !s.exited);
    const all = Promise.all(alive.map((s) => s.gone));
    const within = (ms: number): Promise<boolean> => Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (await within(STOP_GRACE_MS)) return;
    for (const s of alive) if (!s.exited) s.child.kill('SIGTERM');
    if (await within(STOP_GRACE_MS)) return;
    for (const s of alive) if (!s.exited) s.child.kill('SIGKILL');
    await within(STOP_GRACE_MS);
  }

  killNow(): void {
    for (const s of this.started) if (!s.exited) s.child.kill('SIGKILL');
  }
}

function nodeArgs(scenarioFile: string, node: string, control: ControlAddress, addressing: Addressing, shaping: string): string[] {
  const addr = addressing.kind === 'loopback' ? `loopback:${addressing.basePort}` : 'links';
  return ['--scenario', scenarioFile, '--node', node, '--control', formatControlAddress(control), '--addressing', addr, '--shaping', shaping];
}

/** A free run of UDP ports on loopback, checked by binding each (racy, but a clash is reported by the node). */
async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (40000 - count));
    const socks: dgram.Socket[] = [];
    let ok = true;
    for (let p = base; p < base + count && ok; p++) {
      const s = dgram.createSocket('udp4');
      socks.push(s);
      ok = await new Promise<boolean>((r) => {
        s.once('error', () => r(false));
        s.bind(p, '127.0.0.1', () => r(true));
      });
    }
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return base;
  }
  throw new Error(`no free range of ${count} UDP ports on 127.0.0.1`);
}

/** Every node a process on this machine, links on loopback, shaped in software. */
export async function processLauncher(scenarioFile: string, topology: Topology, maxVariant: number, echo = false): Promise<NodeLauncher> {
  // one block of 2·links ports per fabric of the run (see endpointAddress)
  const basePort = await freePortRange(2 * topology.links.length * (maxVariant + 1));
  const procs = new NodeProcesses(echo);
  const addressing: Addressing = { kind: 'loopback', basePort };
  return {
    kind: 'process',
    addressing,
    shaping: 'software',
    async prepare() {},
    startNode: (node, control, exited) => procs.spawn(node, [], nodeArgs(scenarioFile, node, control, addressing, 'software'), exited),
    stop: () => procs.stop(),
    stopNow: () => procs.killNow(),
  };
}

/** Every node a process in its own network namespace, links veth pairs, shaped by tc. */
export function netnsLauncher(scenarioFile: string, topology: Topology, run: string, kernelShaping: boolean, cut: (linkIndex: number) => boolean, echo = false): NodeLauncher {
  const procs = new NodeProcesses(echo);
  let namespaces: string[] = [];
  const addressing: Addressing = { kind: 'links' };
  const shaping = kernelShaping ? 'kernel' : 'software';
  return {
    kind: 'netns',
    addressing,
    shaping,
    async prepare() {
      namespaces = createNamespaces(run, topology, cut);
    },
    startNode: (node, control, exited) => procs.spawn(node, ['ip', 'netns', 'exec', namespaceOf(run, node)], nodeArgs(scenarioFile, node, control, addressing, shaping), exited),
    async stop() {
      await procs.stop();
      removeRun(run, namespaces);
      namespaces = [];
    },
    stopNow() {
      procs.killNow();
      removeRun(run, namespaces);
      namespaces = [];
    },
  };
}

/** Nodes started by someone else (Docker Compose, containerlab, other machines): just wait. */
export function attachLauncher(): NodeLauncher {
  return {
    kind: 'attach',
    addressing: { kind: 'links' },
    shaping: 'software',
    async prepare() {},
    async stop() {},
    stopNow() {},
  };
}
