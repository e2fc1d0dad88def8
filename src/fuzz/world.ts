import { SimClock } from '../net/sim-clock.js';
import { createRng, mixLabel } from '../net/rng.js';
import type { PipelineEnv, ProgramFactory } from '../pipeline/program.js';
import type { Clock } from '../net/clock.js';
import type { FrameHandler, Port } from '../net/port.js';
import { Switch } from '../switch/switch.js';
import { loadProgram } from '../run/registry.js';
import { leafSpineTopology } from '../topology/leaf-spine.js';
import { installRoutes } from '../topology/routing-controller.js';
import { AggregationManager } from '../topology/aggregation-manager.js';
import { nodeByName, type Topology } from '../topology/types.js';
import { portInfoOf } from '../topology/port-info.js';
import { PROTO_SHARP, PROTO_SWITCHML } from '../wire/protocols.js';

/**
 * The fabric a fuzzing run feeds: a leaf-spine (2 leaves, 2 spines, 4 hosts per leaf) whose
 * switches all run one program with the state a real run gives them (the routing controller's
 * routes; for switchml and sharp an aggregation job of every host), so that well-formed and
 * nearly well-formed frames reach the deep paths (aggregation, multicast, load balancing), not
 * only the parser. Built exactly as src/run/fabric.ts builds a switch's options.
 */
/**
 * Two jobs of every host: whole rounds go to ROUND_JOB, single and mutated frames to
 * SINGLE_JOB. A round left incomplete jams its slot copy for good, as in SwitchML (workers
 * recover by retransmitting the same packet, which a fuzzer does not); kept apart, the jams
 * mutations cause never stop rounds from completing. The ids differ in many bits so that a
 * mutation rarely turns one into the other.
 */
export const ROUND_JOB = 0x0101;
export const SINGLE_JOB = 0x7e5a;
export const FUZZ_SLOTS = 8;
export const FUZZ_ELEMENTS = 16;

/** Who may legitimately send aggregation frames to whom (worker → its switch, child → parent). */
export interface AggregationEdge {
  readonly src: number;
  readonly dst: number;
}

export interface FuzzWorld {
  readonly program: string;
  readonly topology: Topology;
  readonly hostAddresses: readonly number[];
  readonly switchAddresses: readonly number[];
  /** the aggregation protocol the program speaks (0: none) */
  readonly aggregationProtocol: number;
  readonly aggregationEdges: readonly AggregationEdge[];
  readonly slots: number;
  readonly elements: number;
  /** the job's workers, i.e. how many contributions complete a round at the flat aggregator */
  readonly workers: number;
}


/** What every switch's program is told, as src/run/fabric.ts tells it. */
export function switchOptions(topo: Topology, name: string, scheme: string): Record<string, unknown> {
  const node = nodeByName(topo, name);
  return { loadBalancing: scheme, aggregation: { slots: FUZZ_SLOTS * 4, elementsPerPacket: FUZZ_ELEMENTS }, address: node.address };
}

/** The load-balancing scheme a program runs (aggregation programs forward with ecmp). */
function schemeOf(program: string): string {
  return program === 'switchml' || program === 'sharp' ? 'ecmp' : program;
}

export interface WorldOptions {
  readonly program: string;
  readonly seed: number;
  /** builds one switch (default: a switch target whose ports go nowhere, for in-process runs) */
  readonly makeSwitch?: (name: string, program: ProgramFactory, env: SwitchEnv) => Switch;
  readonly clock?: Clock;
}

export type SwitchEnv = Omit<PipelineEnv, 'queueBytes' | 'switchName'>;

/** A port whose frames go nowhere: the switch target counts what it sends, that is all a fuzzer needs. */
class NowherePort implements Port {
  constructor(readonly name: string) {}
  send(_frame: Uint8Array): void {}
  onReceive(_handler: FrameHandler): void {}
  queuedBytes(): number {
    return 0;
  }
  close(): void {}
}

/**
 * The switch target (src/switch) on ports that go nowhere, so that a frame meets everything a
 * running switch does to it (the target's own checks, then the program), without sockets.
 */
export function inProcessSwitch(name: string, program: ProgramFactory, env: SwitchEnv): Switch {
  const ports = Array.from({ length: env.portCount }, (_, i) => new NowherePort(`${name}:${i}`));
  return new Switch({ name, program, ports, clock: env.clock, rng: env.rng, seed: env.seed, options: env.options, ...(env.ports ? { portInfo: env.ports } : {}) });
}

export async function buildWorld(o: WorldOptions): Promise<{ world: FuzzWorld; switches: Map<string, Switch>; clock: Clock }> {
  const topo = leafSpineTopology(2, 2, 4);
  const program = await loadProgram(o.program);
  const clock = o.clock ?? new SimClock();
  const rng = createRng(o.seed);
  const make = o.makeSwitch ?? inProcessSwitch;
  const switches = new Map<string, Switch>();
  for (const name of topo.switches) {
    switches.set(
      name,
      make(name, program, {
        seed: mixLabel(o.seed, name),
        rng: rng.fork(`switch:${name}`),
        clock,
        portCount: nodeByName(topo, name).ports,
        ports: portInfoOf(topo, name, () => 100), // every line 100 Gbit/s
        options: switchOptions(topo, name, schemeOf(o.program)),
      }),
    );
  }
  installRoutes(topo, switches);
  const hostAddresses = topo.hosts.map((h) => nodeByName(topo, h).address);
  const edges: AggregationEdge[] = [];
  let aggregationProtocol = 0;
  if (o.program === 'switchml') {
    aggregationProtocol = PROTO_SWITCHML;
    const manager = new AggregationManager(topo, switches);
    const plan = manager.allocate(topo.hosts, { jobId: ROUND_JOB, slots: FUZZ_SLOTS, elementsPerPacket: FUZZ_ELEMENTS });
    manager.allocate(topo.hosts, { jobId: SINGLE_JOB, slots: FUZZ_SLOTS, elementsPerPacket: FUZZ_ELEMENTS });
    for (const a of hostAddresses) edges.push({ src: a, dst: plan.aggregatorAddress });
  } else if (o.program === 'sharp') {
    aggregationProtocol = PROTO_SHARP;
    const manager = new AggregationManager(topo, switches);
    const plan = manager.allocateTree(topo.hosts, { jobId: ROUND_JOB, slots: FUZZ_SLOTS, elementsPerPacket: FUZZ_ELEMENTS });
    manager.allocateTree(topo.hosts, { jobId: SINGLE_JOB, slots: FUZZ_SLOTS, elementsPerPacket: FUZZ_ELEMENTS });
    plan.upstream.forEach((u, i) => edges.push({ src: hostAddresses[i]!, dst: u.address }));
    for (const s of plan.switches) if (s.parentAddress !== 0) edges.push({ src: s.address, dst: s.parentAddress });
  }
  return {
    world: {
      program: o.program,
      topology: topo,
      hostAddresses,
      switchAddresses: topo.switches.map((s) => nodeByName(topo, s).address),
      aggregationProtocol,
      aggregationEdges: edges,
      slots: FUZZ_SLOTS,
      elements: FUZZ_ELEMENTS,
      workers: topo.hosts.length,
    },
    switches,
    clock,
  };
}

