/**
 * One switch running a load-balancing program, in isolation: a clock the test sets, queue depths
 * the test sets, routes installed through the control plane as the routing controller would
 * (one member per port, a group for the multi-path route), frames in, egress ports out.
 */
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { PipelineEnv, ProgramFactory } from '../../src/pipeline/program.js';
import type { Update } from '../../src/pipeline/control-plane.js';
import type { Clock, Timer } from '../../src/net/clock.js';
import { createRng } from '../../src/net/rng.js';
import { makeFrame } from '../../src/wire/common-header.js';
import { validateScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';

export class ManualClock implements Clock {
  readonly kind = 'sim' as const;
  t = 0;
  now(): number {
    return this.t;
  }
  setTimer(): Timer {
    throw new Error('a pipeline never sets timers');
  }
}

/** 10.0.<leaf>.<host+1>, as the leaf-spine address plan */
export const addr = (leaf: number, host: number): number => ((10 << 24) | (leaf << 8) | (host + 1)) >>> 0;

export interface Rig {
  pipe: Pipeline;
  clock: ManualClock;
  /** queue depth per port, read by env.queueBytes */
  queue: number[];
  seed: number;
  /** runs a frame in on `port`; the egress port, or -1 if dropped */
  send(frame: Uint8Array, ingressPort: number): number;
  /** the frame as emitted by the last send */
  last: Uint8Array | null;
}

export interface RigOptions {
  ports?: number;
  /** the multi-path route's group: 10.0.<remoteLeaf>.0/24 -> these ports */
  groupPorts: number[];
  /** ports facing hosts; host h of leaf 0 (10.0.0.h+1) is on port h */
  hostPorts?: number[];
  remoteLeaf?: number;
  options?: Record<string, unknown>;
  seed?: number;
  rateGbps?: number;
}

export function rig(program: ProgramFactory, o: RigOptions): Rig {
  const ports = o.ports ?? 12;
  const seed = o.seed ?? 7;
  const clock = new ManualClock();
  const queue = new Array<number>(ports).fill(0);
  const hostPorts = o.hostPorts ?? [0, 1, 2, 3];
  const env: PipelineEnv = {
    switchName: 'leaf0',
    seed,
    rng: createRng(seed),
    clock,
    portCount: ports,
    queueBytes: (p) => queue[p]!,
    ports: Array.from({ length: ports }, (_, i) => ({ facesHost: hostPorts.includes(i), rateGbps: o.rateGbps ?? 10 })),
    options: {
      flowletGapUs: 100,
      drill: { d: 2, m: 1 },
      ...o.options,
    },
  };
  const pipe = new Pipeline(program, env);
  const updates: Update[] = [];
  for (let p = 0; p < ports; p++) {
    updates.push({ type: 'INSERT', entity: { kind: 'actionProfileMember', profile: 'ecmp_selector', memberId: p + 1, action: { name: 'forward', params: { port: p } } } });
  }
  updates.push({ type: 'INSERT', entity: { kind: 'actionProfileGroup', profile: 'ecmp_selector', groupId: 1, members: o.groupPorts.map((p) => ({ memberId: p + 1 })) } });
  const remote = o.remoteLeaf ?? 1;
  updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: addr(remote, -1), prefixLen: 24 } }, groupId: 1 } });
  hostPorts.forEach((p, h) => {
    updates.push({ type: 'INSERT', entity: { kind: 'tableEntry', table: 'ipv4_lpm', match: { 'hdr.common.dst': { kind: 'lpm', value: addr(0, h), prefixLen: 32 } }, memberId: p + 1 } });
  });
  pipe.controlPlane.write(updates);
  const r: Rig = {
    pipe,
    clock,
    queue,
    seed,
    last: null,
    send(frame, ingressPort) {
      let out = -1;
      r.last = null;
      pipe.process(frame, ingressPort, (port, f) => {
        out = port;
        r.last = f;
      });
      return out;
    },
  };
  return r;
}

/** A frame of a flow from local host `h` (leaf 0) to host `dh` of the remote leaf. */
export function flowFrame(h: number, dh: number, srcPort: number, o: { remoteLeaf?: number; bytes?: number; dstPort?: number } = {}): Uint8Array {
  return makeFrame({ protocol: 6, src: addr(0, h), dst: addr(o.remoteLeaf ?? 1, dh), srcPort, dstPort: o.dstPort ?? 5001 }, o.bytes ?? 100);
}

/** A scenario built in code through the real validator. */
export function scenario(value: Record<string, unknown>): Scenario {
  return validateScenario(value, '<lb test>');
}

/** A small leaf-spine flows scenario in sim. */
export function flowsScenario(o: {
  seed?: number;
  mode?: 'sim' | 'udp';
  schemes?: string[];
  flows?: Record<string, unknown>;
  links?: Record<string, unknown>;
  topology?: Record<string, unknown>;
  switches?: Record<string, unknown>;
}): Scenario {
  return scenario({
    name: 'lb-test',
    mode: o.mode ?? 'sim',
    seed: o.seed ?? 1,
    topology: o.topology ?? { kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 2 },
    links: { rateGbps: 10, delayUs: 1, queueBytes: 262144, ...o.links },
    switches: { loadBalancing: 'ecmp', flowletGapUs: 50, ...o.switches },
    workloads: [
      {
        kind: 'flows',
        distribution: 'websearch',
        pattern: 'all-to-all',
        load: 0.5,
        count: 16,
        sizeScale: 0.02,
        ...(o.schemes ? { loadBalancing: o.schemes } : {}),
        ...o.flows,
      },
    ],
  });
}
