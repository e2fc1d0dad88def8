import { Packet, NO_PORT } from './packet.js';
import type { Parser } from './parser.js';
import { ProgramBuilder, type Controls, type PipelineEnv, type ProgramFactory } from './program.js';
import { ReplicationEngine } from './replication.js';
import type { Table } from './table.js';
import type { Register } from './externs/register.js';
import type { Counter } from './externs/counter.js';
import type { Meter } from './externs/meter.js';
import { ControlPlane } from './control-plane.js';
import { summarizeResources, type ResourceSummary } from './resources.js';
import type { PassClock } from './externs/touch-tracker.js';
import type { ProgramInstance } from './instance.js';

/** Where a packet goes when the pipeline is done with it. */
export type Emit = (port: number, frame: Uint8Array) => void;

/** Why the engine dropped a packet. The target adds 'queue' for egress tail drops. */
export type EngineDropReason = 'parser' | 'table' | 'passes' | 'error';

/** The port number a recirculated packet arrives on, as in v1model's recirculation port. */
export const RECIRCULATION_PORT = 0xfffe;

/**
 * One instance of a program on one switch: the target-independent engine (BMv2's bm_sim).
 * Packet fate is PSA's: a packet is dropped unless ingress sends it to a port or a multicast
 * group; clones go out through a clone session; recirculate/resubmit are bounded by maxPasses.
 */
export class Pipeline<M = any> implements ProgramInstance<M> {
  readonly program: ProgramFactory<M>;
  readonly parser: Parser<M>;
  readonly controls: Controls<M>;
  readonly tables: ReadonlyMap<string, Table<M>>;
  readonly registers: ReadonlyMap<string, Register>;
  readonly counters: ReadonlyMap<string, Counter>;
  readonly meters: ReadonlyMap<string, Meter>;
  readonly pre = new ReplicationEngine();
  readonly controlPlane: ControlPlane<M>;
  readonly maxPasses: number;
  readonly drops: Record<EngineDropReason, number> = { parser: 0, table: 0, passes: 0, error: 0 };
  lastError: unknown = null;
  passes = 0;
  /** packets a program took in on purpose (pkt.consume()), e.g. aggregated contributions */
  consumed = 0;
  private readonly pkt: Packet<M>;
  private readonly savedOffsets: Int32Array;
  private readonly headerCount: number;
  private readonly passClock: PassClock;

  constructor(program: ProgramFactory<M>, readonly env: PipelineEnv) {
    this.program = program;
    const b = new ProgramBuilder<M>(env);
    this.controls = program.build(b, env);
    this.parser = b.buildParser();
    this.tables = new Map(b.tables.map((t) => [t.name, t]));
    this.registers = new Map(b.registers.map((r) => [r.name, r]));
    this.counters = new Map(b.counters.map((c) => [c.name, c]));
    this.meters = new Map(b.meters.map((m) => [m.name, m]));
    this.maxPasses = b.maxPasses;
    this.headerCount = b.headers.length;
    this.passClock = b.passClock;
    this.pkt = new Packet<M>(this.headerCount, program.metadata());
    this.savedOffsets = new Int32Array(this.headerCount);
    this.controlPlane = new ControlPlane<M>(this);
  }

  /**
   * Runs one frame arriving on a port through the program. Never throws: a program fault
   * drops the packet and is counted as 'error'.
   */
  process(frame: Uint8Array, ingressPort: number, emit: Emit): void {
    try {
      this.runPass(frame, ingressPort, 0, emit);
    } catch (err) {
      this.drops.error++;
      this.lastError = err;
    }
    this.passClock.stop();
  }

  /**
   * The registers some pass of a packet touched more than once (read, then written back; or
   * two cells of one lane), with how many passes did and the most touches in one: what would
   * not fit a target with one stateful ALU access per register per packet.
   */
  registerTouches(): Array<{ register: string; repeatedPasses: number; maxPerPass: number }> {
    const out: Array<{ register: string; repeatedPasses: number; maxPerPass: number }> = [];
    for (const r of this.registers.values()) {
      const t = r.touches();
      if (t.repeatedPasses > 0) out.push({ register: r.name, ...t });
    }
    return out;
  }

  resources(): ResourceSummary {
    return summarizeResources(this);
  }

  private runPass(buf: Uint8Array, ingressPort: number, pass: number, emit: Emit): void {
    this.passes++;
    this.passClock.start();
    const pkt = this.pkt;
    pkt.reset(buf, ingressPort, pass, this.env.clock.now());
    // Programs that can clear their metadata in place save an allocation per packet.
    if (this.program.resetMetadata) this.program.resetMetadata(pkt.meta);
    else pkt.meta = this.program.metadata();
    if (!this.parser.parse(pkt)) {
      this.drops.parser++;
      return;
    }
    this.controls.ingress(pkt);
    const meta = pkt.meta;

    if (pkt.cloneSession >= 0) {
      const port = this.pre.cloneSessions.get(pkt.cloneSession);
      if (port !== undefined) {
        this.savedOffsets.set(pkt.hdrOffset);
        const saved = this.captureFate(pkt);
        // The clone gets its own metadata: its egress (or a recirculated pass, which resets
        // metadata in place) must not disturb the original's.
        pkt.meta = this.copyMeta(meta);
        this.toEgress(buf.slice(), port, 0, true, ingressPort, pass, emit);
        this.restoreFate(pkt, saved, buf);
      }
    }

    if (pkt.resubmit) {
      if (pass + 1 >= this.maxPasses) this.drops.passes++;
      else this.runPass(buf, ingressPort, pass + 1, emit);
      return;
    }
    if (pkt.drop) {
      if (pkt.consumed) this.consumed++;
      else this.drops.table++;
      return;
    }
    const group = pkt.mcastGroup;
    if (group !== 0) {
      const replicas = this.pre.groups.get(group);
      if (!replicas || replicas.length === 0) {
        this.drops.table++;
        return;
      }
      this.savedOffsets.set(pkt.hdrOffset);
      const n = replicas.length;
      for (let i = 0; i < n; i++) {
        const r = replicas[i]!;
        // The last copy takes the original bytes: one fewer allocation per multicast.
        const copy = i === n - 1 ? buf : buf.slice();
        if (i > 0) pkt.hdrOffset.set(this.savedOffsets);
        // Every replica starts egress from the metadata ingress left.
        pkt.meta = i === n - 1 ? meta : this.copyMeta(meta);
        this.toEgress(copy, r.port, r.instance, false, ingressPort, pass, emit);
      }
      return;
    }
    const port = pkt.egressPort;
    if (port === NO_PORT) {
      this.drops.table++;
      return;
    }
    this.toEgress(buf, port, 0, false, ingressPort, pass, emit);
  }

  private toEgress(
    buf: Uint8Array, port: number, instance: number, isClone: boolean,
    ingressPort: number, pass: number, emit: Emit,
  ): void {
    const pkt = this.pkt;
    // egress is its own pipeline: its register accesses are a pass of their own
    this.passClock.start();
    pkt.buf = buf;
    pkt.egressPort = port;
    pkt.instance = instance;
    pkt.isClone = isClone;
    pkt.pass = pass;
    pkt.ingressPort = ingressPort;
    pkt.drop = false;
    pkt.recirculate = false;
    pkt.egressQueueBytes = port >= 0 && port < this.env.portCount ? this.env.queueBytes(port) : 0;
    const egress = this.controls.egress;
    if (egress) {
      egress.call(this.controls, pkt);
      if (pkt.drop) {
        this.drops.table++;
        return;
      }
      if (pkt.recirculate) {
        if (pass + 1 >= this.maxPasses) this.drops.passes++;
        else this.runPass(buf, RECIRCULATION_PORT, pass + 1, emit);
        return;
      }
    }
    if (port < 0 || port >= this.env.portCount) {
      this.drops.table++;
      return;
    }
    emit(port, buf);
  }

  private copyMeta(m: M): M {
    return this.program.copyMetadata ? this.program.copyMetadata(m) : structuredClone(m);
  }

  private captureFate(pkt: Packet<M>): [number, number, boolean, boolean, M] {
    return [pkt.mcastGroup, pkt.egressPort, pkt.drop, pkt.resubmit, pkt.meta];
  }

  private restoreFate(pkt: Packet<M>, s: [number, number, boolean, boolean, M], buf: Uint8Array): void {
    [pkt.mcastGroup, pkt.egressPort, pkt.drop, pkt.resubmit, pkt.meta] = s;
    pkt.buf = buf;
    pkt.hdrOffset.set(this.savedOffsets);
    pkt.instance = 0;
    pkt.isClone = false;
  }
}

export function instantiate<M>(program: ProgramFactory<M>, env: PipelineEnv): Pipeline<M> {
  return new Pipeline(program, env);
}
