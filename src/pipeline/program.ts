import type { Clock } from '../net/clock.js';
import type { Rng } from '../net/rng.js';
import { HeaderType, type HeaderRef } from './header.js';
import type { Structure } from 'buffer-layout';
import { WireHeader } from '../wire/header-view.js';
import type { Packet } from './packet.js';
import { Parser, type ParserSpec } from './parser.js';
import { noAction, type ActionDef, type ActionParam } from './action.js';
import { Table, type TableSpec } from './table.js';
import { Register } from './externs/register.js';
import { RegisterAction } from './externs/register-action.js';
import { PassClock } from './externs/touch-tracker.js';
import { Counter, type CounterType } from './externs/counter.js';
import { Meter } from './externs/meter.js';
import { Hash, type HashAlgorithm } from './externs/hash.js';
import { RandomExtern } from './externs/random.js';

/** What the target hands a program when it is instantiated on one switch. */
/** What a target tells a program about one of its ports (typed, unlike `options`). */
export interface PortInfo {
  /** the port's peer is a host (an edge port) */
  readonly facesHost: boolean;
  /** the port's line rate in Gbit/s; 0 = unshaped or unknown */
  readonly rateGbps: number;
}

export interface PipelineEnv {
  readonly switchName: string;
  /** distinct per switch, so hash-based choices at two tiers do not polarize */
  readonly seed: number;
  readonly rng: Rng;
  readonly clock: Clock;
  readonly portCount: number;
  /** per port (index = port number), where the target knows them; absent: none faces a host, rates 0 */
  readonly ports?: readonly PortInfo[];
  /** the traffic manager's egress queue depth of a port, in bytes */
  queueBytes(port: number): number;
  /** the scenario's `switches` section and anything else the program is configured with */
  readonly options: Readonly<Record<string, unknown>>;
}

/** The controls of a program: PSA ingress and (optional) egress. */
export interface Controls<M> {
  ingress(pkt: Packet<M>): void;
  egress?(pkt: Packet<M>): void;
}

/** A program in pipelines/: a name, a fresh-metadata function and a build step. */
export interface ProgramFactory<M = any> {
  readonly name: string;
  readonly description: string;
  metadata(): M;
  /** clears metadata in place between packets; without it the engine calls metadata() per packet */
  resetMetadata?(m: M): void;
  /** copies metadata for a clone or multicast replica; without it the engine uses structuredClone */
  copyMetadata?(m: M): M;
  build(p: ProgramBuilder<M>, env: PipelineEnv): Controls<M>;
}

export function defineProgram<M>(f: ProgramFactory<M>): ProgramFactory<M> {
  return f;
}

/** The declarations a program makes, collected for the engine and the control plane. */
export class ProgramBuilder<M> {
  readonly headers: HeaderRef[] = [];
  readonly tables: Table<M>[] = [];
  readonly registers: Register[] = [];
  readonly counters: Counter[] = [];
  readonly meters: Meter[] = [];
  readonly noAction: ActionDef<M> = noAction<M>();
  parserSpec: ParserSpec<M> | null = null;
  /** bound on passes through the pipeline (1 + recirculations/resubmissions) */
  maxPasses = 4;
  /** numbers the passes, so registers can count their accesses per pass */
  readonly passClock = new PassClock();

  /** the switch's environment, for shared stages (e.g. pipelines/lib/forwarding.ts) that need it */
  constructor(readonly env: PipelineEnv) {}

  /** Declares a header instance of a wire header (src/wire), a layout, or a header type. */
  header(name: string, layout: Structure<any> | HeaderType | WireHeader<any>): HeaderRef {
    const type =
      layout instanceof HeaderType ? layout : new HeaderType(name, layout instanceof WireHeader ? layout.layout : layout);
    const ref = { index: this.headers.length, type, name };
    this.headers.push(ref);
    return ref;
  }

  parser(spec: ParserSpec<M>): void {
    this.parserSpec = spec;
  }

  action(name: string, params: readonly ActionParam[], run: ActionDef<M>['run']): ActionDef<M> {
    return { name, params, run };
  }

  table(spec: TableSpec<M>): Table<M> {
    if (this.tables.some((t) => t.name === spec.name)) throw new Error(`duplicate table ${spec.name}`);
    const t = new Table<M>(spec, this.noAction);
    this.tables.push(t);
    return t;
  }

  /**
   * A register array; `lanes` > 1 says the array is that many registers side by side (cell i
   * in lane i mod lanes), each touched once per packet, as SwitchML keeps one per element.
   */
  register(name: string, width: number, size: number, signed = false, lanes = 1): Register {
    const r = new Register(name, width, size, signed);
    r.trackTouches(this.passClock, lanes);
    this.registers.push(r);
    return r;
  }

  /** A named read-modify-write of one register cell, one access per packet (see register-action.ts). */
  registerAction(name: string, register: Register, update: (old: number, arg: number) => number): RegisterAction {
    return new RegisterAction(name, register, update);
  }

  counter(name: string, size: number, type: CounterType = 'packets_and_bytes'): Counter {
    const c = new Counter(name, size, type);
    this.counters.push(c);
    return c;
  }

  meter(name: string, size: number, unit: 'bytes' | 'packets' = 'bytes'): Meter {
    const m = new Meter(name, size, unit);
    this.meters.push(m);
    return m;
  }

  /** A hash unit seeded from the switch's seed (plus a salt so two units differ). */
  hash(algorithm: HashAlgorithm, salt = 0): Hash {
    return new Hash(algorithm, (this.env.seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0);
  }

  random(label = 'random'): RandomExtern {
    return new RandomExtern(this.env.rng.fork(label));
  }

  buildParser(): Parser<M> {
    if (!this.parserSpec) throw new Error('program declared no parser');
    return new Parser(this.parserSpec);
  }
}
