import type { Clock } from '../net/clock.js';
import type { Port } from '../net/port.js';
import type { Rng } from '../net/rng.js';
import { Pipeline, type Emit } from '../pipeline/pipeline.js';
import type { PortInfo, ProgramFactory } from '../pipeline/program.js';
import type { QueueConfig } from '../net/egress-queue.js';
import { TrafficManager } from './traffic-manager.js';
import type { ControlPlane } from '../pipeline/control-plane.js';
import type { ResourceSummary } from '../pipeline/resources.js';

/** Per-port counters the target keeps, independent of the program. */
export interface PortCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
}

export interface SwitchOptions {
  readonly name: string;
  readonly program: ProgramFactory;
  readonly ports: readonly Port[];
  readonly clock: Clock;
  readonly rng: Rng;
  /** per-switch hash seed */
  readonly seed: number;
  readonly options?: Readonly<Record<string, unknown>>;
  /** what the program may know of each port (which face hosts, line rates) */
  readonly portInfo?: readonly PortInfo[];
  /**
   * the egress queue of each port, kept by the traffic manager; each port is then a link's
   * wire (LinkPort). Without: frames go straight to the ports, with no queue.
   */
  readonly queues?: readonly QueueConfig[];
}

export interface SwitchDrops {
  parser: number;
  table: number;
  queue: number;
  passes: number;
  error: number;
}

/**
 * The switch target (BMv2's simple_switch to the engine's bm_sim): a program instance, its
 * ports and its traffic manager, which owns the egress queues (depth, ECN marking, tail
 * drops) and hands each frame to the port's link at its departure.
 */
export class Switch {
  readonly name: string;
  readonly pipeline: Pipeline;
  readonly ports: readonly Port[];
  readonly portCounters: PortCounters[];
  readonly trafficManager: TrafficManager;
  packetsIn = 0;
  packetsOut = 0;
  private readonly emitFn: Emit;

  constructor(o: SwitchOptions) {
    this.name = o.name;
    this.ports = o.ports;
    this.portCounters = o.ports.map(() => ({ rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 }));
    const ports = o.ports;
    const tm = (this.trafficManager = new TrafficManager(ports, o.clock, o.queues));
    this.pipeline = new Pipeline(o.program, {
      switchName: o.name,
      seed: o.seed,
      rng: o.rng,
      clock: o.clock,
      portCount: ports.length,
      ...(o.portInfo ? { ports: o.portInfo } : {}),
      queueBytes: (port) => tm.depth(port),
      options: o.options ?? {},
    });
    this.emitFn = (port, frame) => {
      const c = this.portCounters[port]!;
      c.txPackets++;
      c.txBytes += frame.length;
      this.packetsOut++;
      tm.enqueue(port, frame);
    };
    ports.forEach((p, i) => p.onReceive((frame) => this.receive(i, frame)));
  }

  get controlPlane(): ControlPlane<any> {
    return this.pipeline.controlPlane;
  }

  resources(): ResourceSummary {
    return this.pipeline.resources();
  }

  /** One frame in on a port: counted, run through the pipeline, emitted on its egress ports. */
  receive(port: number, frame: Uint8Array): void {
    const c = this.portCounters[port]!;
    c.rxPackets++;
    c.rxBytes += frame.length;
    this.packetsIn++;
    this.pipeline.process(frame, port, this.emitFn);
  }

  drops(): SwitchDrops {
    const d = this.pipeline.drops;
    return { parser: d.parser, table: d.table, queue: this.trafficManager.drops(), passes: d.passes, error: d.error };
  }

  /** Packets the program absorbed on purpose (aggregation), not drops. */
  consumed(): number {
    return this.pipeline.consumed;
  }

  /** Parser rejections by error kind (PacketTooShort, version, ...). */
  parserErrors(): Record<string, number> {
    return Object.fromEntries(this.pipeline.parser.errors);
  }
}
