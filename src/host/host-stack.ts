import type { Clock } from '../net/clock.js';
import type { Port } from '../net/port.js';
import type { Rng } from '../net/rng.js';
import { checkCommonHeader, OFF_DST, OFF_PROTOCOL, type ParseErrorKind } from '../wire/common-header.js';
import { readU32 } from '../wire/bytes.js';
import { JobDemux, type JobBinding, type JobReceiver } from './job-demux.js';

export type ProtocolHandler = (frame: Uint8Array) => void;

/**
 * A host's network stack: one port to its switch, one address, and a demultiplexer from the
 * common header's protocol number to the agent that handles it, and for protocols that carry
 * a job id, on to the job's agent (attachJob). Malformed frames and frames for another address
 * are counted and dropped with their reason, never thrown.
 */
export class HostStack {
  private readonly handlers = new Map<number, ProtocolHandler>();
  /** per protocol bound by jobs: its demultiplexer by job id and how to unbind it */
  private readonly jobDemuxes = new Map<number, { demux: JobDemux; unbind: () => void }>();
  readonly malformed: Record<ParseErrorKind, number> = { short: 0, version: 0, truncated: 0, length: 0 };
  misdelivered = 0;
  unhandled = 0;
  rxFrames = 0;
  txFrames = 0;
  txBytes = 0;

  constructor(
    readonly name: string,
    readonly address: number,
    readonly port: Port,
    readonly clock: Clock,
    readonly rng: Rng,
  ) {
    port.onReceive((frame) => this.receive(frame));
  }

  /** Routes frames of a protocol to a handler; returns a function that unbinds it. */
  bind(protocol: number, handler: ProtocolHandler): () => void {
    if (this.handlers.has(protocol)) throw new Error(`${this.name}: protocol ${protocol} already bound`);
    this.handlers.set(protocol, handler);
    return () => {
      if (this.handlers.get(protocol) === handler) this.handlers.delete(protocol);
    };
  }

  /**
   * Gives the frames of `binding`'s protocol that name `job` to `receiver`. The protocol is
   * bound on the first job's attach and unbound when its last job detaches.
   */
  attachJob(binding: JobBinding, job: number, receiver: JobReceiver): void {
    let d = this.jobDemuxes.get(binding.protocol);
    if (d === undefined) {
      const demux = new JobDemux(binding);
      d = { demux, unbind: this.bind(binding.protocol, (f) => demux.deliver(f)) };
      this.jobDemuxes.set(binding.protocol, d);
    } else if (d.demux.binding.jobOffset !== binding.jobOffset) {
      throw new Error(`${this.name}: protocol ${binding.protocol} names its jobs at offset ${d.demux.binding.jobOffset}, not ${binding.jobOffset}`);
    }
    d.demux.add(this.name, job, receiver);
  }

  /** Undoes attachJob (if `receiver` is still `job`'s); safe to call twice. */
  detachJob(binding: JobBinding, job: number, receiver: JobReceiver): void {
    const d = this.jobDemuxes.get(binding.protocol);
    if (d === undefined || !d.demux.remove(job, receiver)) return;
    if (d.demux.size === 0) {
      d.unbind();
      this.jobDemuxes.delete(binding.protocol);
    }
  }

  /** The job demultiplexer of a protocol while any job is attached to it. */
  jobDemux(protocol: number): JobDemux | undefined {
    return this.jobDemuxes.get(protocol)?.demux;
  }

  send(frame: Uint8Array): void {
    this.txFrames++;
    this.txBytes += frame.length;
    this.port.send(frame);
  }

  private receive(frame: Uint8Array): void {
    const err = checkCommonHeader(frame);
    if (err !== null) {
      this.malformed[err]++;
      return;
    }
    if (readU32(frame, OFF_DST) !== this.address) {
      this.misdelivered++;
      return;
    }
    this.rxFrames++;
    const h = this.handlers.get(frame[OFF_PROTOCOL]!);
    if (h) h(frame);
    else this.unhandled++;
  }
}
