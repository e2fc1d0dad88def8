import { readU16 } from '../wire/bytes.js';

/** What one job's agent on a host hands its frames to. */
export interface JobReceiver {
  onFrame(frame: Uint8Array): void;
}

/** Which protocol a kind of job speaks and where its frames name the job (a 16-bit id). */
export interface JobBinding {
  readonly protocol: number;
  /** byte offset of the job id in the frame */
  readonly jobOffset: number;
  /** "ring job", "flows job", ...: for the error when a job already has an agent on a host */
  readonly what: string;
}

/**
 * One protocol's frames on one host, shared by every job with an agent there, so concurrent
 * workloads (a `group`) can overlap on hosts: each frame goes to the job its id names. Frames
 * for no job here (late ones of a finished job, or too short to name one) are counted.
 */
export class JobDemux {
  private readonly jobs = new Map<number, JobReceiver>();
  unknownJob = 0;

  constructor(readonly binding: JobBinding) {}

  get size(): number {
    return this.jobs.size;
  }

  has(job: number): boolean {
    return this.jobs.has(job);
  }

  add(hostName: string, job: number, receiver: JobReceiver): void {
    if (this.jobs.has(job)) throw new Error(`${hostName}: ${this.binding.what} ${job} already has an agent here`);
    this.jobs.set(job, receiver);
  }

  /** Removes `receiver` if it is the one of `job`; false when it was not. */
  remove(job: number, receiver: JobReceiver): boolean {
    if (this.jobs.get(job) !== receiver) return false;
    this.jobs.delete(job);
    return true;
  }

  deliver(frame: Uint8Array): void {
    const off = this.binding.jobOffset;
    const j = frame.length >= off + 2 ? this.jobs.get(readU16(frame, off)) : undefined;
    if (j !== undefined) j.onFrame(frame);
    else this.unknownJob++;
  }
}
