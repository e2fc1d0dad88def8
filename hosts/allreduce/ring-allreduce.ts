import { HostAgent } from '../transport/host-agent.js';
import type { AlgorithmFactory, AlgorithmOptions, AllreduceAlgorithm, CollectiveCall, CollectiveStats } from './collective.js';
import type { Tensor } from './tensor.js';
import { ACCEPT_NEW, ACCEPT_OUT_OF_RANGE, ReliableReceiver, ReliableSender, reliabilityPolicy, type ReliabilityPolicy } from '../transport/reliable-stream.js';
import type { HostStack } from '../../src/host/host-stack.js';
import type { JobBinding } from '../../src/host/job-demux.js';
import { Deferred } from '../../src/run/deferred.js';
import { PROTO_RING } from '../../src/wire/protocols.js';
import {
  HEADER_BYTES, OFF_DST, OFF_DSTPORT, OFF_PAYLOADLEN, OFF_SEQ, OFF_SRC, OFF_SRCPORT, OFF_TIMESTAMP, OFF_TTL,
  OFF_PROTOCOL, OFF_TYPE, OFF_VERSION, WIRE_VERSION,
} from '../../src/wire/common-header.js';
import {
  RING_ACK, RING_DATA, RING_HEADER_BYTES, RING_OFF_CHUNK, RING_OFF_DATA, RING_OFF_FLAGS, RING_OFF_ITERATION,
  RING_OFF_KIND, RING_OFF_STEP,
} from '../../src/wire/ring.js';
import { readF64, readU16, readU32, writeF64, writeU16, writeU32 } from '../../src/wire/bytes.js';
import { allocFrame } from '../../src/wire/frame-slab.js';

/**
 * Host-only ring all-reduce, the NCCL/Gloo baseline: reduce-scatter then all-gather around
 * the ring in the order of the workers, 2(N-1) steps of one segment (~length/N elements)
 * each. Step k of worker r carries segment (r - k) mod N to worker r+1; a segment starts at
 * its own worker, is summed hop by hop for N-1 steps (reduce-scatter: the worker before its
 * origin ends up holding the total), then copied around for N-1 more (all-gather).
 *
 * Segments travel in chunks of ELEMENTS_PER_FRAME elements (the same frame size as SwitchML's
 * 256-element frames), pipelined: chunk c of step k+1 is queued the moment chunk c of step k
 * has arrived (and, in reduce-scatter, been added to), with no barrier between steps.
 *
 * Each worker's frames to its successor form one reliable stream per iteration (see
 * reliable-stream.ts): common-header seq = stream seq, ring header = (iteration, step, chunk).
 * Frames are rebuilt from the tensors on every (re)transmission, so nothing is kept per frame
 * in flight. ACK frames carry the acknowledged seq in the common header's seq, the cumulative
 * point in the ring header's chunk field, and echo the data frame's timestamp.
 *
 * Floats are summed in one fixed order per segment (x_s + x_{s+1} + ... cyclically, rounded to
 * float32 at each hop, a recursive sum within N·u·Σ|x|), and all-gather copies, so every worker
 * ends with the same bits; int32 wraps exactly.
 */

/** elements per DATA frame: 1024 bytes of payload, as SwitchML's 256-element frames */
export const ELEMENTS_PER_FRAME = 256;
/** ring-header flags: this DATA frame is a retransmission */
export const RING_FLAG_RETRANSMIT = 1;

/** bytes of a DATA frame carrying n elements, and of an ACK frame */
export const dataFrameBytes = (n: number): number => RING_OFF_DATA + 4 * n;
export const ACK_FRAME_BYTES = RING_OFF_DATA;

/** Where a tensor of `length` elements splits into `n` segments, and each segment's frames. */
export interface RingGeometry {
  readonly workers: number;
  readonly length: number;
  /** segStart[s] .. segStart[s+1] is segment s (n + 1 entries) */
  readonly segStart: Float64Array;
  /** frames (chunks) in segment s */
  readonly segChunks: Int32Array;
  /** frames worker r receives per iteration (= frames its predecessor sends) */
  readonly framesIn: Int32Array;
}

export function ringGeometry(workers: number, length: number): RingGeometry {
  const segStart = new Float64Array(workers + 1);
  const segChunks = new Int32Array(workers);
  for (let s = 0; s <= workers; s++) segStart[s] = Math.floor((s * length) / workers);
  for (let s = 0; s < workers; s++) segChunks[s] = Math.ceil((segStart[s + 1]! - segStart[s]!) / ELEMENTS_PER_FRAME);
  const framesIn = new Int32Array(workers);
  const steps = 2 * (workers - 1);
  for (let r = 0; r < workers; r++) {
    let f = 0;
    for (let k = 0; k < steps; k++) f += segChunks[mod(r - 1 - k, workers)]!;
    framesIn[r] = f;
  }
  return { workers, length, segStart, segChunks, framesIn };
}

function mod(a: number, n: number): number {
  const m = a % n;
  return m < 0 ? m + n : m;
}

/** Ring jobs share PROTO_RING on a host (its stack demultiplexes): frames name their job by dstPort. */
const RING_JOBS: JobBinding = { protocol: PROTO_RING, jobOffset: OFF_DSTPORT, what: 'ring job' };

function attach(w: RingWorker): void {
  w.host.attachJob(RING_JOBS, w.jobId, w);
}

function detach(w: RingWorker): void {
  w.host.detachJob(RING_JOBS, w.jobId, w);
}

/** The header bytes every frame of one kind from one worker shares, written once. */
function template(src: number, dst: number, jobId: number, kind: number): Uint8Array {
  const t = new Uint8Array(RING_OFF_DATA);
  t[OFF_VERSION] = WIRE_VERSION;
  t[OFF_TYPE] = kind;
  t[OFF_TTL] = 64;
  t[OFF_PROTOCOL] = PROTO_RING;
  writeU32(t, OFF_SRC, src);
  writeU32(t, OFF_DST, dst);
  writeU16(t, OFF_SRCPORT, jobId);
  writeU16(t, OFF_DSTPORT, jobId);
  writeU16(t, OFF_PAYLOADLEN, RING_HEADER_BYTES);
  t[RING_OFF_KIND] = kind;
  return t;
}

/**
 * Worker `rank` of one ring job: the sender of its stream to the successor and the receiver of
 * its predecessor's. A HostAgent for its timers and sends (the host's RingPort receives).
 */
class RingWorker extends HostAgent {
  readonly sender: ReliableSender;
  readonly receiver: ReliableReceiver;
  /** per call */
  bytesSent = 0;
  /** anything (DATA or ACK) heard from a neighbour this call */
  heard = false;
  /** frames dropped: malformed, from a stranger, or out of range */
  malformed = 0;
  stray = 0;

  private iteration = 0;
  /** some call has begun on this worker (before that, every iteration is a future one) */
  private begun = false;
  private active = false;
  private input: Tensor = new Float32Array(0);
  private out: Tensor = new Float32Array(0);
  private got = 0;
  private readonly dataTpl: Uint8Array;
  private readonly ackTpl: Uint8Array;
  private readonly steps: number;

  constructor(
    private readonly job: RingAllreduce,
    host: HostStack,
    readonly rank: number,
    readonly pred: HostStack,
    readonly succ: HostStack,
    readonly jobId: number,
    policy: ReliabilityPolicy,
  ) {
    super(host, PROTO_RING);
    const g = job.geometry;
    this.steps = 2 * (g.workers - 1);
    this.dataTpl = template(host.address, succ.address, jobId, RING_DATA);
    this.ackTpl = template(host.address, pred.address, jobId, RING_ACK);
    const schedule = (d: number, fn: () => void) => this.after(d, fn);
    this.sender = new ReliableSender(policy, host.clock, schedule, {
      transmit: (seq, step, chunk, re) => this.sendData(seq, step, chunk, re),
      dead: (seq, step, chunk, tries) => this.job.peerDead(this, seq, step, chunk, tries),
    }, g.framesIn[(rank + 1) % g.workers]!);
    this.receiver = new ReliableReceiver(policy, host.clock, schedule, {
      ack: (sel, cum, ts) => this.sendAck(this.iteration, sel, cum, ts),
    });
  }

  begin(call: CollectiveCall): void {
    const g = this.job.geometry;
    this.iteration = call.iteration & 0xffff;
    this.input = call.inputs[this.rank]!;
    this.out = call.outputs[this.rank]!;
    this.got = 0;
    this.bytesSent = 0;
    this.heard = false;
    this.active = true;
    this.begun = true;
    this.receiver.reset(g.framesIn[this.rank]!);
    this.sender.reset();
    const own = g.segChunks[this.rank]!;
    for (let c = 0; c < own; c++) this.sender.enqueue(0, c);
  }

  /** Stops sending, acking lazily and every timer; stays bound (late frames are acked). */
  halt(): void {
    this.active = false;
    this.sender.stop();
    this.receiver.stop();
    super.stop();
  }

  get done(): boolean {
    return this.got === this.job.geometry.framesIn[this.rank]!;
  }

  onFrame(f: Uint8Array): void {
    if (f.length < RING_OFF_DATA) {
      this.malformed++;
      return;
    }
    const kind = f[RING_OFF_KIND];
    if (kind === RING_DATA) this.onData(f);
    else if (kind === RING_ACK) this.onAck(f);
    else this.malformed++;
  }

  private onData(f: Uint8Array): void {
    // only the predecessor's worker of this job (address and port) sends this worker data
    if (readU32(f, OFF_SRC) !== this.pred.address || readU16(f, OFF_SRCPORT) !== this.jobId) {
      this.stray++;
      return;
    }
    const it = readU16(f, RING_OFF_ITERATION);
    const seq = readU32(f, OFF_SEQ);
    const ts = readF64(f, OFF_TIMESTAMP);
    if (!this.active || it !== this.iteration) {
      // A late frame of a finished iteration: ack it (its sender may still be asking) and
      // drop it. A frame of an iteration this worker has not begun is dropped unacknowledged,
      // so its sender sends it again: across processes a predecessor may begin a little
      // before this worker does (in one process every worker begins at once).
      const ahead = (it - this.iteration) & 0xffff;
      const future = this.begun ? ahead !== 0 && ahead < 0x8000 : true;
      if (future) this.stray++;
      else this.sendAck(it, seq, 0, ts);
      return;
    }
    const g = this.job.geometry;
    const n = g.workers;
    const step = readU16(f, RING_OFF_STEP);
    const chunk = readU32(f, RING_OFF_CHUNK);
    if (step >= this.steps) {
      this.malformed++;
      return;
    }
    const seg = mod(this.rank - 1 - step, n);
    if (chunk >= g.segChunks[seg]!) {
      this.malformed++;
      return;
    }
    const start = g.segStart[seg]! + chunk * ELEMENTS_PER_FRAME;
    const end = Math.min(g.segStart[seg + 1]!, start + ELEMENTS_PER_FRAME);
    if (f.length !== dataFrameBytes(end - start)) {
      this.malformed++;
      return;
    }
    const verdict = this.receiver.accept(seq, ts);
    this.heard = true;
    if (verdict !== ACCEPT_NEW) {
      // a duplicate was acked again by the receiver; a seq beyond the stream is nonsense
      if (verdict === ACCEPT_OUT_OF_RANGE) this.malformed++;
      return;
    }
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    if (step < n - 1) {
      // reduce-scatter: partial sum so far + this worker's own term
      if (this.job.isFloat) addF32(this.out as Float32Array, this.input as Float32Array, start, end, dv);
      else addI32(this.out as Int32Array, this.input as Int32Array, start, end, dv);
    } else if (this.job.isFloat) copyF32(this.out as Float32Array, start, end, dv);
    else copyI32(this.out as Int32Array, start, end, dv);
    if (step + 1 < this.steps) this.sender.enqueue(step + 1, chunk);
    if (++this.got === g.framesIn[this.rank]!) this.job.workerDone();
  }

  private onAck(f: Uint8Array): void {
    if (readU32(f, OFF_SRC) !== this.succ.address || readU16(f, OFF_SRCPORT) !== this.jobId) {
      this.stray++;
      return;
    }
    if (!this.active || readU16(f, RING_OFF_ITERATION) !== this.iteration) return;
    this.heard = true;
    this.sender.onAck(readU32(f, OFF_SEQ), readU32(f, RING_OFF_CHUNK), readF64(f, OFF_TIMESTAMP));
  }

  /** Builds DATA (step, chunk) from the tensors as they are now and sends it. */
  private sendData(seq: number, step: number, chunk: number, retransmission: boolean): void {
    const g = this.job.geometry;
    const seg = mod(this.rank - step, g.workers);
    const start = g.segStart[seg]! + chunk * ELEMENTS_PER_FRAME;
    const end = Math.min(g.segStart[seg + 1]!, start + ELEMENTS_PER_FRAME);
    const f = allocFrame(dataFrameBytes(end - start));
    f.set(this.dataTpl);
    writeU16(f, OFF_PAYLOADLEN, f.length - HEADER_BYTES);
    writeU32(f, OFF_SEQ, seq);
    writeF64(f, OFF_TIMESTAMP, this.host.clock.now());
    f[RING_OFF_FLAGS] = retransmission ? RING_FLAG_RETRANSMIT : 0;
    writeU16(f, RING_OFF_ITERATION, this.iteration);
    writeU16(f, RING_OFF_STEP, step);
    writeU32(f, RING_OFF_CHUNK, chunk);
    // Step 0 sends this worker's own input; later steps forward what arrived (plus, in
    // reduce-scatter, this worker's term). A retransmission after all-gather overwrote a
    // segment can only be a duplicate at the successor (the final value depends on it having
    // arrived), so it is never added twice.
    const src = step === 0 ? this.input : this.out;
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    if (this.job.isFloat) putF32(src as Float32Array, start, end, dv);
    else putI32(src as Int32Array, start, end, dv);
    this.bytesSent += f.length;
    this.send(f);
  }

  private sendAck(iteration: number, sel: number, cum: number, echoTs: number): void {
    const f = allocFrame(ACK_FRAME_BYTES);
    f.set(this.ackTpl);
    writeU32(f, OFF_SEQ, sel);
    writeF64(f, OFF_TIMESTAMP, echoTs);
    writeU16(f, RING_OFF_ITERATION, iteration);
    writeU32(f, RING_OFF_CHUNK, cum);
    this.bytesSent += f.length;
    this.send(f);
  }
}

// Element loops, one per dtype and direction, so each stays monomorphic. Big-endian on the wire.
function putF32(src: Float32Array, start: number, end: number, dv: DataView): void {
  for (let i = start, o = RING_OFF_DATA; i < end; i++, o += 4) dv.setFloat32(o, src[i]!);
}
function putI32(src: Int32Array, start: number, end: number, dv: DataView): void {
  for (let i = start, o = RING_OFF_DATA; i < end; i++, o += 4) dv.setInt32(o, src[i]!);
}
function addF32(out: Float32Array, own: Float32Array, start: number, end: number, dv: DataView): void {
  // received partial sum first, then this worker's term: one float32 rounding per hop
  for (let i = start, o = RING_OFF_DATA; i < end; i++, o += 4) out[i] = dv.getFloat32(o) + own[i]!;
}
function addI32(out: Int32Array, own: Int32Array, start: number, end: number, dv: DataView): void {
  for (let i = start, o = RING_OFF_DATA; i < end; i++, o += 4) out[i] = (dv.getInt32(o) + own[i]!) | 0;
}
function copyF32(out: Float32Array, start: number, end: number, dv: DataView): void {
  for (let i = start, o = RING_OFF_DATA; i < end; i++, o += 4) out[i] = dv.getFloat32(o);
}
function copyI32(out: Int32Array, start: number, end: number, dv: DataView): void {
  for (let i = start, o = RING_OFF_DATA; i < end; i++, o += 4) out[i] = dv.getInt32(o);
}

class RingAllreduce implements AllreduceAlgorithm {
  readonly name = 'ring';
  readonly fallback = null;
  readonly geometry: RingGeometry;
  readonly isFloat: boolean;
  private readonly workers: RingWorker[];
  private call: { d: Deferred<CollectiveStats>; c: CollectiveCall } | null = null;
  private doneCount = 0;
  private tornDown = false;

  constructor(private readonly o: AlgorithmOptions) {
    const n = o.workers.length;
    if (n < 1) throw new Error('ring all-reduce needs at least one worker');
    const names = new Set(o.workers.map((w) => w.name));
    if (names.size !== n) throw new Error(`ring all-reduce: a host appears twice among the workers (${o.workers.map((w) => w.name).join(', ')})`);
    if (!Number.isInteger(o.jobId) || o.jobId < 0 || o.jobId > 0xffff) throw new RangeError(`ring all-reduce: job id ${o.jobId} does not fit the dstPort`);
    this.geometry = ringGeometry(n, o.length);
    this.isFloat = o.dtype === 'float32';
    const policy = reliabilityPolicy(o.ctx.clock);
    // Only this process's workers (all of them in one process; one per host node in `ina up`).
    this.workers = o.workers.flatMap((h, r) =>
      o.ctx.cluster.isLocal(h.name) ? [new RingWorker(this, h, r, o.workers[mod(r - 1, n)]!, o.workers[(r + 1) % n]!, o.jobId, policy)] : [],
    );
    if (n > 1) {
      try {
        for (const w of this.workers) attach(w);
      } catch (e) {
        for (const w of this.workers) detach(w);
        throw e;
      }
    }
  }

  run(call: CollectiveCall): Deferred<CollectiveStats> {
    const d = new Deferred<CollectiveStats>(`ring all-reduce iteration ${call.iteration}`);
    const n = this.o.workers.length;
    if (this.tornDown) {
      d.reject(new Error('ring all-reduce: run() after teardown()'));
      return d;
    }
    if (this.call !== null) {
      d.reject(new Error(`ring all-reduce: iteration ${call.iteration} started while iteration ${this.call.c.iteration} is running`));
      return d;
    }
    if (call.inputs.length !== n || call.outputs.length !== n) {
      d.reject(new Error(`ring all-reduce: ${n} workers but ${call.inputs.length} inputs and ${call.outputs.length} outputs`));
      return d;
    }
    const mine = this.workers.flatMap((w) => [call.inputs[w.rank]!, call.outputs[w.rank]!]);
    const bad = mine.find((t) => t.length !== this.o.length || (t instanceof Float32Array) !== this.isFloat);
    if (bad !== undefined) {
      d.reject(new Error(`ring all-reduce: every tensor must be ${this.o.length} ${this.o.dtype} elements`));
      return d;
    }
    if (n === 1 || this.o.length === 0 || this.workers.length === 0) {
      for (const w of this.workers) call.outputs[w.rank]!.set(call.inputs[w.rank]!);
      d.resolve({ retransmissions: 0, bytesSent: this.workers.map(() => 0), errorBound: null });
      return d;
    }
    this.call = { d, c: call };
    this.doneCount = 0;
    for (const w of this.workers) {
      w.halt(); // still serving the previous call (multi-process); a no-op otherwise
      w.begin(call);
    }
    return d;
  }

  /** a worker holds its whole result */
  workerDone(): void {
    if (++this.doneCount === this.workers.length) this.finish(null);
  }

  /** a worker's successor never acknowledged a frame: the iteration fails, naming the peer */
  peerDead(w: RingWorker, seq: number, step: number, chunk: number, tries: number): void {
    const it = this.call?.c.iteration ?? 0;
    const what = `frame seq ${seq} (step ${step}, chunk ${chunk}) sent ${tries} times without an ACK`;
    // A worker that heard nothing at all from two different neighbours is the one cut off;
    // between two workers, silence both ways cannot tell which end is.
    const msg = w.heard
      ? `ring all-reduce iteration ${it}: peer ${w.succ.name} unresponsive: ${w.host.name}'s ${what}`
      : w.pred === w.succ
        ? `ring all-reduce iteration ${it}: peers ${w.host.name} and ${w.succ.name} unresponsive to each other: ${w.host.name} heard nothing from ${w.succ.name}, and its ${what}`
        : `ring all-reduce iteration ${it}: peer ${w.host.name} unresponsive: it heard nothing from ${w.pred.name} or ${w.succ.name}, and its ${what} to ${w.succ.name}`;
    this.finish(new Error(msg));
  }

  private finish(error: Error | null): void {
    const call = this.call;
    if (call === null) return;
    this.call = null;
    let retransmissions = 0;
    const bytesSent: number[] = [];
    // Across processes a worker that holds its result still owes its successor retransmissions
    // (that one may not be done): it keeps serving until the next call or teardown, which come
    // after every process is done. In one process every worker is done here.
    const serving = error === null && this.o.ctx.cluster.distributed;
    for (const w of this.workers) {
      retransmissions += w.sender.retransmissions;
      bytesSent.push(w.bytesSent);
      if (!serving) w.halt();
    }
    if (error !== null) call.d.reject(error);
    else call.d.resolve({ retransmissions, bytesSent, errorBound: null });
  }

  teardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    const call = this.call;
    for (const w of this.workers) {
      w.halt();
      detach(w);
    }
    this.call = null;
    call?.d.reject(new Error('ring all-reduce: torn down while running'));
  }
}

export const createRing: AlgorithmFactory = async (o) => new RingAllreduce(o);
