/** The largest job id: a frame names its job in 16 bits (a port field or a job field). */
export const MAX_JOB_ID = 0xffff;

/**
 * The job ids of one fabric, so that concurrent jobs never share state (a host stack's job
 * demultiplexer, a switch's aggregator slots). Each kind of job numbers its jobs 1, 2, ... in a
 * space of its own: the kinds speak different protocols, so their ids never meet, and a kind's
 * numbering does not depend on which other workloads share the run. The allreduce space covers
 * ring, switchml and sharp alike (a job that falls back to the ring keeps its id). After
 * MAX_JOB_ID jobs of a kind the ids start again at 1.
 */
export class JobIds {
  private readonly last = new Map<string, number>();

  next(kind: string): number {
    const prev = this.last.get(kind) ?? 0;
    const id = prev >= MAX_JOB_ID ? 1 : prev + 1;
    this.last.set(kind, id);
    return id;
  }
}
