/**
 * The host stack owns the per-job demultiplexing of a protocol (src/host/host-stack.ts
 * attachJob): concurrent jobs of one protocol share its binding on a host, each frame goes to
 * the job its id names, and the protocol is free again once its last job has left.
 */
import { describe, expect, it } from 'vitest';
import { HostStack } from '../../src/host/host-stack.js';
import type { JobBinding } from '../../src/host/job-demux.js';
import type { FrameHandler, Port } from '../../src/net/port.js';
import { createRng } from '../../src/net/rng.js';
import { SimClock } from '../../src/net/sim-clock.js';
import { makeFrame, OFF_DSTPORT } from '../../src/wire/common-header.js';

const ADDRESS = 7;
const PROTO = 200;
const JOBS: JobBinding = { protocol: PROTO, jobOffset: OFF_DSTPORT, what: 'test job' };

/** A host whose port delivers what the test injects. */
function host(): { stack: HostStack; inject(f: Uint8Array): void } {
  let handler: FrameHandler = () => {};
  const port: Port = { name: 'p', send: () => {}, onReceive: (h) => void (handler = h), queuedBytes: () => 0, close: () => {} };
  return { stack: new HostStack('h0', ADDRESS, port, new SimClock(), createRng(1)), inject: (f) => handler(f) };
}

const frameFor = (job: number): Uint8Array => makeFrame({ protocol: PROTO, src: 1, dst: ADDRESS, dstPort: job }, 4);

describe('HostStack job demultiplexing', () => {
  it('gives each job its own frames, counts frames for no job, and unbinds after the last job', () => {
    const h = host();
    const got: number[] = [];
    const a = { onFrame: () => void got.push(1) };
    const b = { onFrame: () => void got.push(2) };
    h.stack.attachJob(JOBS, 1, a);
    h.stack.attachJob(JOBS, 2, b);
    h.inject(frameFor(2));
    h.inject(frameFor(1));
    h.inject(frameFor(3));
    expect(got).toEqual([2, 1]);
    expect(h.stack.jobDemux(PROTO)!.unknownJob).toBe(1);
    h.stack.detachJob(JOBS, 1, a);
    h.stack.detachJob(JOBS, 1, a);
    h.inject(frameFor(1));
    expect(h.stack.jobDemux(PROTO)!.unknownJob).toBe(2);
    h.stack.detachJob(JOBS, 2, b);
    expect(h.stack.jobDemux(PROTO)).toBeUndefined();
    // the protocol is free: another agent may bind it
    const off = h.stack.bind(PROTO, () => {});
    off();
  });

  it('refuses a second agent of one job, and a job binding that reads its id elsewhere', () => {
    const h = host();
    h.stack.attachJob(JOBS, 1, { onFrame: () => {} });
    expect(() => h.stack.attachJob(JOBS, 1, { onFrame: () => {} })).toThrow(/h0: test job 1 already has an agent here/);
    expect(() => h.stack.attachJob({ ...JOBS, jobOffset: OFF_DSTPORT + 2 }, 2, { onFrame: () => {} })).toThrow(/names its jobs at offset/);
  });

  it('the detach of a receiver that is not the job\'s own leaves the job attached', () => {
    const h = host();
    let n = 0;
    h.stack.attachJob(JOBS, 1, { onFrame: () => void n++ });
    h.stack.detachJob(JOBS, 1, { onFrame: () => {} });
    h.inject(frameFor(1));
    expect(n).toBe(1);
  });
});
