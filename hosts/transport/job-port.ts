import type { HostStack } from '../../src/host/host-stack.js';
import { readU16 } from '../../src/wire/bytes.js';
import { HostAgent } from './host-agent.js';

/** An agent of one job on one host: what a JobPort hands frames to. */
export interface JobAgent {
  onFrame(frame: Uint8Array): void;
}

/**
 * One binding of a protocol per host, shared by every job with an agent there, so concurrent
 * workloads (a `group`) can overlap on hosts: frames go to the job named by the 16-bit job id
 * at `jobOffset`. Frames for no job here (late ones of a finished job) are counted.
 */
export class JobPort<J extends JobAgent> extends HostAgent {
  readonly jobs = new Map<number, J>();
  unknownJob = 0;

  constructor(host: HostStack, protocol: number, jobOffset: number) {
    super(host, protocol);
    this.start((f) => {
      const j = f.length >= jobOffset + 2 ? this.jobs.get(readU16(f, jobOffset)) : undefined;
      if (j !== undefined) j.onFrame(f);
      else this.unknownJob++;
    });
  }
}

/** The ports of one protocol, one per host, made on first use and dropped with their last job. */
export class JobPorts<J extends JobAgent> {
  private readonly ports = new WeakMap<HostStack, JobPort<J>>();

  constructor(
    private readonly protocol: number,
    private readonly jobOffset: number,
    /** "ring job", "flows job", ...: for the error when a job already has an agent on a host */
    private readonly what: string,
  ) {}

  attach(host: HostStack, job: number, agent: J): void {
    let p = this.ports.get(host);
    if (p === undefined) {
      p = new JobPort<J>(host, this.protocol, this.jobOffset);
      this.ports.set(host, p);
    }
    if (p.jobs.has(job)) throw new Error(`${host.name}: ${this.what} ${job} already has an agent here`);
    p.jobs.set(job, agent);
  }

  detach(host: HostStack, job: number, agent: J): void {
    const p = this.ports.get(host);
    if (p === undefined || p.jobs.get(job) !== agent) return;
    p.jobs.delete(job);
    if (p.jobs.size === 0) {
      p.stop();
      this.ports.delete(host);
    }
  }

  port(host: HostStack): JobPort<J> | undefined {
    return this.ports.get(host);
  }
}
