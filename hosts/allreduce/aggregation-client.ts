import type { Timer } from '../../src/net/clock.js';
import { NS_PER_MS, NS_PER_US } from '../../src/net/clock.js';
import { Deferred } from '../../src/run/deferred.js';
import type { Fabric } from '../../src/run/fabric.js';
import type { HostStack } from '../../src/host/host-stack.js';
import type { JobBinding, JobReceiver } from '../../src/host/job-demux.js';
import { readI32, readU16, readU32, writeI32, writeU16, writeU32 } from '../../src/wire/bytes.js';
import { HEADER_BYTES, OFF_DSTPORT, OFF_PAYLOADLEN, OFF_SRC } from '../../src/wire/common-header.js';
import {
  SML_FLAG_OVERFLOW, SML_FLAG_RETRANSMIT, SML_HEADER_BYTES, SML_OFF_COUNT, SML_OFF_DATA, SML_OFF_EXPONENT, SML_OFF_FLAGS,
  SML_OFF_KIND, SML_OFF_PACKET, SML_OFF_SLOT, SML_OFF_VER, SML_RESULT, SML_UPDATE,
} from '../../src/wire/switchml.js';
import type { AllreduceAlgorithm, CollectiveCall, CollectiveStats } from './collective.js';
import { dequantizeBlock, quantizeBlock } from './block-quantization.js';
import { HostAgent } from '../transport/host-agent.js';
import { RtoEstimator, type RtoPolicy } from '../transport/rto-estimator.js';
import { blockExponent, F32_EPS, INT32_MAX, type Dtype, type Tensor } from './tensor.js';

/**
 * The worker side of in-network aggregation, shared by the flat SwitchML client
 * (hosts/allreduce/switchml-client.ts, for pipelines/switchml.ts) and the tree client
 * (hosts/allreduce/sharp-client.ts, for pipelines/sharp.ts): SwitchML's worker (Sapio et al., NSDI'21).
 * The two differ only in where each worker's updates go (the aggregation switch, or the
 * worker's own leaf in the job's tree) and in the protocol number; a switch of either kind
 * answers exactly the same way.
 *
 * Streaming: each worker cuts the tensor into packets of elementsPerPacket elements (the last
 * shorter) and keeps a window of W = the job's slotCount packets in flight; packet p uses slot
 * p mod W. Self-clocked: the result for a slot frees it for the slot's next packet (p + W).
 * Every use of a slot is a round, and the round's parity is the slot copy (ver) it uses; the
 * per-slot round counters live as long as the job, so calls after the first keep alternating
 * copies in step with the switch. Each packet also carries a sequence number (`packet`) that
 * grows over the whole job; the switch uses it to tell a stale duplicate from a new round.
 *
 * float32 (SwitchML's block floating point): packet p carries, in `exponent`, the sender's block
 * exponent of the NEXT packet on the same slot (p + W); the switch returns the max over workers
 * with p's result, so p + W is quantized with the common exponent as soon as the slot frees. An
 * exponent-only round (elementCount 0) on each slot at the start of a call obtains the maximum
 * exponents of the first W blocks.
 *
 * Loss: a retransmission deadline per outstanding packet (one lazily re-armed timer per slot),
 * RTO from smoothed RTT samples (RFC 6298: Jacobson/Karels, Karn's rule, the RTO itself backed
 * off on timeouts), doubled per retry up to a per-job cap; retransmissions carry
 * SML_FLAG_RETRANSMIT. A retransmission to a completed round is answered by the switch with a
 * unicast result; one to a round in progress is dropped there (a duplicate never counts twice);
 * in a tree, one to a round complete at the leaf but not yet at the root walks up (see
 * src/wire/sharp.ts). After maxRetries for one packet the call is rejected naming the switch
 * (StreamingJobConfig.deadMessage): bounded time
 * (about maxRetries · maxRto: 80 ms of virtual time, 8 s over UDP), never a hang.
 *
 * Everything is callback driven: one Deferred per call, no promise per packet; a frame is
 * allocated per packet sent (the network owns a frame once sent), every other buffer is per
 * job.
 */

/** Timers and limits of the retransmission machinery. */
export interface SwitchmlTuning {
  /** RTO before the first RTT sample (a floor: an estimate of the first window's RTT may raise it) */
  initialRtoNs: number;
  minRtoNs: number;
  /**
   * Cap of the RTO, back-off included; one value for every worker of a job (default
   * 2 · initialRtoNs, after the first-window estimate raised it). Low, because a worker's RTT
   * samples include waiting for the other workers' contributions (the switch drops a worker's
   * retransmissions to an incomplete round silently), which says nothing about the path, and an
   * RTO grown on that would make it come back for a completed round late. Shared, so that retry
   * counts compare across workers: when one worker has retried maxRetries times, a slower one
   * has had nearly as many chances to get its contribution through, and "dead" is not declared
   * on a laggard. With it, a dead aggregator is named within about maxRetries · maxRtoNs.
   */
  maxRtoNs?: number;
  /** retransmissions of one packet before the aggregator is declared dead */
  maxRetries: number;
  /** timer granularity of the clock (RFC 6298's G) */
  granularityNs: number;
  /**
   * The RTO is at least srtt · (1 + this). Sim: 1/4, enough for a steady queue's jitter; a real
   * event loop's RTT is heavy-tailed (batches, GC pauses: p99 about twice the median), where
   * srtt + 4·rttvar fires on the tail.
   */
  srttMargin: number;
  /**
   * Largest window (slots per job). Over UDP the hosts' and switches' CPU is the bottleneck, so
   * a window beyond what keeps that pipeline busy only lengthens the RTT (and its tail, hence
   * spurious retransmissions); sim has no such cost.
   */
  maxWindow: number;
}

/**
 * Test hooks of an aggregation job whose switch state is described by `Plan` (given to a run as
 * RunOptions.hooks): observe the state at quiet points, or tune the workers' timers.
 */
export interface AggregationHooks<Plan> {
  tuning?: Partial<SwitchmlTuning>;
  /** after the job's state is installed, before the first call */
  onAllocate?(plan: Plan, fabric: Fabric): void;
  /** when a call has completed (every round of the call is complete), before it resolves */
  onCallComplete?(plan: Plan, fabric: Fabric, iteration: number): void;
  /** when a call is rejected (before teardown releases the job's state) */
  onCallFailed?(plan: Plan, fabric: Fabric, iteration: number, error: Error): void;
  /** after teardown released the job */
  onRelease?(plan: Plan, fabric: Fabric): void;
}

export function defaultTuning(clock: 'sim' | 'real'): SwitchmlTuning {
  // RealClock timers fire at >= 1 ms granularity; sim time is exact, so sim can react in µs.
  return clock === 'real'
    ? { initialRtoNs: 100 * NS_PER_MS, minRtoNs: 10 * NS_PER_MS, maxRetries: 40, granularityNs: NS_PER_MS, srttMargin: 1.5, maxWindow: 32 }
    : { initialRtoNs: NS_PER_MS, minRtoNs: 20 * NS_PER_US, maxRetries: 40, granularityNs: 0, srttMargin: 0.25, maxWindow: Infinity };
}

/** Exponent sent when no packet follows on the slot in this call: never the max of real ones. */
const NO_EXPONENT = -128;
const IDLE = -2;
const EXPONENT_ROUND = -1;

/**
 * Per-element error bound of the float32 path, derivation. Let k = floor(INT32_MAX / N) and
 * f = k · 2^-emax (the nominal INT32_MAX / (N · 2^emax) rounded down to a whole k, so that even
 * a value of exactly ±2^emax, which rounds to ±k, cannot make the N-worker sum overflow).
 * - each worker's |x| <= 2^e_w <= 2^emax, so |x·f| <= k; fl(x·f) has relative error 2^-53, so
 *   |q - x·f| <= 1/2 + 2^-22 with q = round(fl(x·f)), |q| <= k;
 * - the switch's sum S = Σ q is exact: |S| <= N·k <= INT32_MAX;
 * - |S/f - Σx| <= N·(1/2 + 2^-22)/f = N·2^emax·(1/2 + 2^-22)/k, and 1/k <= N/(INT32_MAX - N),
 *   so this is <= N²·2^emax/(2·INT32_MAX) · (1 + 2^-21)(1 + 2N/INT32_MAX), under 1.000001 times
 *   the nominal N²·2^emax/(2·INT32_MAX); the remaining slack (~5e-7 of it) also covers the
 *   float64 reference's own summation error, at most (N-1)·N·2^emax·2^-53;
 * - result = fl32(S · fl64(2^emax/k)) (two float64 roundings, then float32's):
 *   |result - S/f| <= |result|·2^-24·(1 + 2^-23) + 2^-52·|S/f|, under
 *   |result|·2^-24·1.000001 in float32's normal range; subnormal results round to within
 *   2^-150 absolute, hence the + 2^-149.
 * Total: N²·2^emax/(2·INT32_MAX)·1.000001 + |result|·2^-24·1.000001 + 2^-149.
 */
export function quantizationBound(workers: number, emax: number): number {
  return ((workers * workers * 2 ** emax) / (2 * INT32_MAX)) * 1.000001;
}
const SUBNORMAL_SLACK = 2 ** -149;

/** See quantizationBound: every worker holds the same result, so worker 0's output serves. */
function errorBound(call: CallState, out: Tensor, workers: number, epp: number): Float64Array {
  const bound = new Float64Array(out.length);
  for (let p = 0; p < call.packets; p++) {
    const q = quantizationBound(workers, call.blockEmax![p]!);
    const end = Math.min(out.length, (p + 1) * epp);
    for (let i = p * epp; i < end; i++) bound[i] = q + Math.abs(out[i]!) * F32_EPS * 1.000001 + SUBNORMAL_SLACK;
  }
  return bound;
}

/** Aggregation jobs share their protocol on a host (its stack demultiplexes by dstPort). */
function jobBinding(protocol: number, algorithm: string): JobBinding {
  return { protocol, jobOffset: OFF_DSTPORT, what: `${algorithm} job` };
}

/** What distinguishes one kind of aggregation job from another, for the shared worker machinery. */
export interface StreamingJobConfig {
  /** 'switchml' | 'sharp': error messages and labels */
  readonly algorithm: string;
  /** the frames' protocol number (which agent on the hosts gets them) */
  readonly protocol: number;
  /** the frames' dstPort */
  readonly jobId: number;
  /** slots per worker in flight (the slot range every switch reserved) */
  readonly window: number;
  readonly elementsPerPacket: number;
  /** per worker, by rank: where its updates go, and the one source its results may come from */
  readonly upstream: readonly number[];
  /** the label of a call's Deferred */
  readonly label: string;
  /** why a call fails when `host`'s packet on `slot` got no answer after `retries` retransmissions */
  deadMessage(rank: number, host: string, slot: number, packet: number, retries: number, detail: DeadDetail): string | Promise<string>;
  onCallComplete?(iteration: number): void;
  onCallFailed?(iteration: number, error: Error): void;
  /** frees the job's switch state (the manager's release; a collective step across processes) */
  release(): void | Promise<void>;
  onRelease?(): void;
  /** extra report fields (where the job aggregates) */
  readonly info?: Readonly<Record<string, unknown>>;
}

/** What the worker that gave up knows besides the slot: for naming whose contribution is missing. */
export interface DeadDetail {
  /** the slot copy the packet used (its round's parity) */
  readonly ver: number;
  /** when this worker last got a result from its upstream switch in this call (ns), or -1 */
  readonly lastResultNs: number;
  readonly nowNs: number;
}

/** What one call needs, shared by the job's workers. */
interface CallState {
  readonly iteration: number;
  readonly dtype: Dtype;
  readonly deferred: Deferred<CollectiveStats>;
  /** data packets */
  readonly packets: number;
  /** slots used: min(W, packets) */
  readonly used: number;
  /** exponent-only rounds at the start (float32: one per used slot) */
  readonly expRounds: number;
  /** sequence number of this call's first packet */
  readonly seqBase: number;
  /** per data packet, the common exponent it was quantized with (float32) */
  readonly blockEmax: Int16Array | null;
  workersDone: number;
  active: boolean;
}

class Worker implements JobReceiver {
  /** sends and times this worker's frames (its stack hands it the job's frames: onFrame) */
  readonly agent: HostAgent;
  private readonly binding: JobBinding;
  readonly address: number;
  /** per slot, rounds completed over the job's life: ver = rounds & 1 */
  readonly rounds: Uint32Array;
  /** per slot, the outstanding packet: data index, EXPONENT_ROUND or IDLE */
  readonly slotPacket: Int32Array;
  readonly slotSeq: Uint32Array;
  readonly slotSentAt: Float64Array;
  readonly slotRetries: Uint16Array;
  /** float32: the common exponent the outstanding data packet is quantized with */
  readonly slotEmax: Int16Array;
  /** per slot, when the outstanding packet is due for retransmission */
  readonly deadline: Float64Array;
  /** per slot, the armed wake-up timer and when it fires (a hint: it re-arms if early) */
  readonly timers: Array<Timer | null>;
  readonly timerAt: Float64Array;
  private readonly onTimeout: Array<() => void>;
  /** the worker's RTO, from its results' RTTs (Karn's rule: first transmissions only) */
  readonly rtt: RtoEstimator;
  private lastBackoff = -Infinity;
  // per call
  input: Tensor = new Int32Array(0);
  output: Tensor = new Int32Array(0);
  /**
   * float32: the sender's own exponent per block, made when first sent (with the packet W before
   * it, so the block is read while still in cache for its own quantization): NO_EXPONENT until then
   */
  blockExp = new Int8Array(0);
  /** float32: a received frame's copy, read through scratchView (see dequantizeBlock) */
  readonly scratch: Uint8Array;
  readonly scratchView: DataView;
  done = 0;
  bytesSent = 0;
  retransmissions = 0;
  overflows = 0;
  /** when the last result came from upstream in this call (ns), -1 before the first */
  lastResultNs = -1;

  /** where this worker's updates go, and whose results it accepts */
  readonly upstream: number;

  constructor(readonly job: StreamingAggregationJob, readonly rank: number, readonly host: HostStack) {
    const w = job.window;
    this.address = host.address;
    this.upstream = job.config.upstream[rank]!;
    this.rounds = new Uint32Array(w);
    this.slotPacket = new Int32Array(w).fill(IDLE);
    this.slotSeq = new Uint32Array(w);
    this.slotSentAt = new Float64Array(w);
    this.slotRetries = new Uint16Array(w);
    this.slotEmax = new Int16Array(w);
    this.deadline = new Float64Array(w);
    this.timers = new Array<Timer | null>(w).fill(null);
    this.timerAt = new Float64Array(w);
    this.onTimeout = Array.from({ length: w }, (_, s) => () => this.timeout(s));
    this.rtt = new RtoEstimator(job.rtoPolicy);
    this.scratch = new Uint8Array(SML_OFF_DATA + 4 * job.epp);
    this.scratchView = new DataView(this.scratch.buffer);
    this.agent = new HostAgent(host, job.config.protocol);
    this.binding = jobBinding(job.config.protocol, job.config.algorithm);
    host.attachJob(this.binding, job.config.jobId, this);
  }

  begin(call: CallState, input: Tensor, output: Tensor): void {
    this.input = input;
    this.output = output;
    this.done = 0;
    this.bytesSent = 0;
    this.retransmissions = 0;
    this.overflows = 0;
    this.lastResultNs = -1;
    if (call.dtype === 'float32') {
      if (this.blockExp.length !== call.packets) this.blockExp = new Int8Array(call.packets);
      this.blockExp.fill(NO_EXPONENT);
    }
    for (let s = 0; s < call.used; s++) this.schedule(s, call.expRounds > 0 ? EXPONENT_ROUND : s, 0);
  }

  /** Makes packet `p` (or the exponent round) the slot's outstanding packet and sends it. */
  private schedule(s: number, p: number, emax: number): void {
    const call = this.job.call!;
    this.slotPacket[s] = p;
    this.slotSeq[s] = (call.seqBase + (p === EXPONENT_ROUND ? s : call.expRounds + p)) >>> 0;
    this.slotEmax[s] = emax;
    this.slotRetries[s] = 0;
    this.transmit(s, false);
  }

  private transmit(s: number, retransmit: boolean): void {
    const job = this.job;
    const call = job.call!;
    const epp = job.epp;
    const p = this.slotPacket[s]!;
    const W = job.window;
    const from = p < 0 ? 0 : p * epp;
    const n = p < 0 ? 0 : Math.min(epp, this.input.length - from);
    const f = this.agent.frame({ dst: this.upstream, dstPort: job.config.jobId }, SML_HEADER_BYTES + 4 * n);
    f[SML_OFF_KIND] = SML_UPDATE;
    f[SML_OFF_FLAGS] = retransmit ? SML_FLAG_RETRANSMIT : 0;
    writeU16(f, SML_OFF_SLOT, s);
    f[SML_OFF_VER] = this.rounds[s]! & 1;
    writeU16(f, SML_OFF_COUNT, n);
    writeU32(f, SML_OFF_PACKET, this.slotSeq[s]!);
    if (call.dtype === 'int32') {
      f[SML_OFF_EXPONENT] = 0;
      const x = this.input;
      for (let i = 0, o = SML_OFF_DATA; i < n; i++, o += 4) writeI32(f, o, x[from + i]!);
    } else {
      // the exponent of the next block on this slot (packet p + W; the first block, s, for the exponent round)
      const next = p < 0 ? s : p + W;
      f[SML_OFF_EXPONENT] = (next < call.packets ? this.exponentOf(next) : NO_EXPONENT) & 0xff;
      if (n > 0) quantizeBlock(f, SML_OFF_DATA, this.input as Float32Array, from, n, job.k * 2 ** -this.slotEmax[s]!, job.k);
    }
    const now = this.agent.now;
    this.slotSentAt[s] = now;
    this.bytesSent += f.length;
    this.agent.send(f);
    this.arm(s, now, Math.min(job.maxRto, this.rtt.rto * 2 ** this.slotRetries[s]!));
  }

  /** float32: this worker's exponent of block b (blockExponent), made once per call. */
  private exponentOf(b: number): number {
    let e = this.blockExp[b]!;
    if (e === NO_EXPONENT) {
      const epp = this.job.epp;
      e = blockExponent(this.input, b * epp, Math.min(this.input.length, (b + 1) * epp));
      this.blockExp[b] = e;
    }
    return e;
  }

  /**
   * One wake-up timer per slot, not one per packet: a result does not cancel it; when it fires
   * before the slot's current deadline it re-arms. Only a deadline earlier than the armed timer
   * replaces it.
   */
  private arm(s: number, now: number, delay: number): void {
    const at = now + delay;
    this.deadline[s] = at;
    const t = this.timers[s];
    if (t) {
      if (this.timerAt[s]! <= at) return;
      t.cancel();
    }
    this.timerAt[s] = at;
    this.timers[s] = this.agent.after(delay, this.onTimeout[s]!);
  }

  private timeout(s: number): void {
    this.timers[s] = null;
    const call = this.job.call;
    if (!call || !call.active || this.slotPacket[s] === IDLE) return;
    const now = this.agent.now;
    if (now < this.deadline[s]!) {
      this.timerAt[s] = this.deadline[s]!;
      this.timers[s] = this.agent.after(this.deadline[s]! - now, this.onTimeout[s]!);
      return;
    }
    if (this.slotRetries[s]! >= this.job.tuning.maxRetries) {
      const detail: DeadDetail = { ver: this.rounds[s]! & 1, lastResultNs: this.lastResultNs, nowNs: now };
      this.job.fail(this.job.config.deadMessage(this.rank, this.host.name, s, this.slotSeq[s]!, this.slotRetries[s]!, detail));
      return;
    }
    // RFC 6298 (5.5): back the worker's RTO off, not only this packet's timer, so that when
    // every packet times out (no valid samples under Karn's rule) the RTO still grows instead
    // of retransmitting everything at a too-short RTO forever. Once per RTO: W slots time out
    // together.
    if (now - this.lastBackoff >= this.rtt.rto) {
      this.lastBackoff = now;
      this.rtt.backOff();
    }
    this.slotRetries[s]!++;
    this.retransmissions++;
    this.transmit(s, true);
  }

  onFrame(f: Uint8Array): void {
    if (f.length < SML_OFF_DATA) return;
    const job = this.job;
    const call = job.call;
    if (!call || !call.active) return;
    if (f[SML_OFF_KIND] !== SML_RESULT || readU32(f, OFF_SRC) !== this.upstream) return;
    const s = readU16(f, SML_OFF_SLOT);
    if (s >= job.window) return;
    const p = this.slotPacket[s]!;
    // a result for anything but the slot's outstanding packet is a stale or duplicate copy
    if (p === IDLE || readU32(f, SML_OFF_PACKET) !== this.slotSeq[s] || f[SML_OFF_VER] !== (this.rounds[s]! & 1)) return;
    const epp = job.epp;
    const from = p < 0 ? 0 : p * epp;
    const n = p < 0 ? 0 : Math.min(epp, this.input.length - from);
    if (readU16(f, SML_OFF_COUNT) !== n || readU16(f, OFF_PAYLOADLEN) !== SML_HEADER_BYTES + 4 * n) return;

    this.lastResultNs = this.agent.now;
    if (this.slotRetries[s] === 0) this.rtt.sample(this.agent.now - this.slotSentAt[s]!);
    this.rounds[s]!++;
    const e = (f[SML_OFF_EXPONENT]! << 24) >> 24;
    let next: number;
    if (p >= 0) {
      const out = this.output;
      if (call.dtype === 'int32') {
        for (let i = 0, o = SML_OFF_DATA; i < n; i++, o += 4) out[from + i] = readI32(f, o);
      } else {
        const emax = this.slotEmax[s]!;
        dequantizeBlock(f, SML_OFF_DATA, out as Float32Array, from, n, 2 ** emax / job.k, this.scratch, this.scratchView);
        if (this.job.workers[0] === this) call.blockEmax![p] = emax;
      }
      if (this.job.workers[0] === this && (f[SML_OFF_FLAGS]! & SML_FLAG_OVERFLOW) !== 0) this.overflows++;
      this.done++;
      next = p + job.window;
    } else {
      next = s;
    }
    if (next < call.packets) this.schedule(s, next, e);
    else this.slotPacket[s] = IDLE;
    if (this.done === call.packets && p >= 0) job.workerDone();
  }

  cancelTimers(): void {
    for (let s = 0; s < this.timers.length; s++) {
      this.timers[s]?.cancel();
      this.timers[s] = null;
      this.slotPacket[s] = IDLE;
    }
  }

  close(): void {
    this.cancelTimers();
    this.agent.stop();
    this.host.detachJob(this.binding, this.job.config.jobId, this);
  }
}

/** One aggregation job's workers: an all-reduce algorithm whose sums are made by switches. */
export class StreamingAggregationJob implements AllreduceAlgorithm {
  readonly name: string;
  readonly fallback: string | null = null;
  readonly info: Readonly<Record<string, unknown>> | undefined;
  readonly window: number;
  readonly epp: number;
  /** float32 quantization: the largest |q| a worker may send, so N of them cannot overflow */
  readonly k: number;
  readonly maxRto: number;
  /** every worker's RTO estimator reads it */
  readonly rtoPolicy: RtoPolicy;
  readonly workers: Worker[];
  call: CallState | null = null;
  /** sequence number of the next call's first packet; grows over the job's life */
  private nextSeq = 1;
  private dead: Error | null = null;
  private released = false;

  /** the job's workers in every process (this process runs `workers`, its own) */
  readonly size: number;

  constructor(
    readonly config: StreamingJobConfig,
    hosts: readonly HostStack[],
    readonly tuning: SwitchmlTuning,
    isLocal: (host: string) => boolean = () => true,
  ) {
    this.name = config.algorithm;
    this.info = config.info;
    this.window = config.window;
    this.epp = config.elementsPerPacket;
    if (config.upstream.length !== hosts.length) throw new Error(`${config.algorithm} job ${config.jobId}: ${hosts.length} workers but ${config.upstream.length} upstream addresses`);
    this.size = hosts.length;
    this.k = Math.floor(INT32_MAX / hosts.length);
    this.maxRto = Math.max(tuning.maxRtoNs ?? 2 * tuning.initialRtoNs, tuning.minRtoNs);
    // srtt + max(G, 4·rttvar, srtt·margin) is RFC 6298's RTO with a floor of (1 + margin)·srtt
    this.rtoPolicy = {
      initialRtoNs: tuning.initialRtoNs,
      minRtoNs: tuning.minRtoNs,
      maxRtoNs: this.maxRto,
      granularityNs: tuning.granularityNs,
      rtoSrtts: 1 + tuning.srttMargin,
      minReorderWindowNs: 0,
    };
    const made: Worker[] = [];
    try {
      // Only this process's workers (all of them in one process; one per host node in `ina up`).
      hosts.forEach((h, r) => {
        if (isLocal(h.name)) made.push(new Worker(this, r, h));
      });
    } catch (e) {
      for (const w of made) w.close();
      throw e;
    }
    this.workers = made;
  }

  run(c: CollectiveCall): Deferred<CollectiveStats> {
    const d = new Deferred<CollectiveStats>(`${this.config.label} iteration ${c.iteration}`);
    if (this.dead) {
      d.reject(this.dead);
      return d;
    }
    if (this.call?.active) {
      d.reject(new Error(`${this.config.algorithm} job ${this.config.jobId}: a call is already running`));
      return d;
    }
    const n = this.size;
    if (c.inputs.length !== n || c.outputs.length !== n) {
      d.reject(new Error(`${this.config.algorithm} job ${this.config.jobId}: ${n} workers, got ${c.inputs.length} inputs and ${c.outputs.length} outputs`));
      return d;
    }
    const length = c.inputs[0]!.length;
    const packets = Math.ceil(length / this.epp);
    const used = Math.min(this.window, packets);
    const expRounds = c.dtype === 'float32' ? used : 0;
    const call: CallState = {
      iteration: c.iteration,
      dtype: c.dtype,
      deferred: d,
      packets,
      used,
      expRounds,
      seqBase: this.nextSeq,
      blockEmax: c.dtype === 'float32' ? new Int16Array(packets) : null,
      workersDone: 0,
      active: true,
    };
    this.nextSeq = (this.nextSeq + expRounds + packets) >>> 0;
    this.call = call;
    if (packets === 0) {
      this.complete(call);
      return d;
    }
    if (this.workers.length === 0) this.complete(call);
    for (const w of this.workers) w.begin(call, c.inputs[w.rank]!, c.outputs[w.rank]!);
    return d;
  }

  workerDone(): void {
    const call = this.call!;
    if (++call.workersDone === this.workers.length) this.complete(call);
  }

  private complete(call: CallState): void {
    call.active = false;
    for (const w of this.workers) w.cancelTimers();
    // The float32 bound is a pass over the whole tensor: computed on first read (the harness
    // reads it after stopping the clock), from this call's result and exponents.
    const out = this.workers[0]?.output;
    const n = this.size;
    const epp = this.epp;
    let bound: Float64Array | null = null;
    const stats: CollectiveStats = {
      retransmissions: this.workers.reduce((s, w) => s + w.retransmissions, 0),
      bytesSent: this.workers.map((w) => (call.packets === 0 ? 0 : w.bytesSent)),
      get errorBound(): Float64Array | null {
        // (no worker here, no output to bound: the harness reads it only for its own workers)
        if (call.dtype !== 'float32' || out === undefined) return null;
        return (bound ??= errorBound(call, out, n, epp));
      },
      overflows: this.workers[0]?.overflows ?? 0,
    };
    this.config.onCallComplete?.(call.iteration);
    call.deferred.resolve(stats);
  }

  /**
   * Ends the call with `message`; one still being made (a switch's slot read from another
   * process) ends it when known: the call stops at once either way (no more retransmissions,
   * results ignored), so no second worker gives up meanwhile.
   */
  fail(message: string | Promise<string>): void {
    const call = this.call;
    if (!call || !call.active) return;
    call.active = false;
    for (const w of this.workers) w.cancelTimers();
    const reject = (m: string): void => {
      // The workers' round counters no longer agree with the switch: the job cannot go on.
      this.dead = new Error(m);
      this.config.onCallFailed?.(call.iteration, this.dead);
      call.deferred.reject(this.dead);
    };
    if (typeof message === 'string') reject(message);
    else message.then(reject, (e: Error) => reject(`${this.config.label}: ${e.message}`));
  }

  async teardown(): Promise<void> {
    if (this.call) this.call.active = false;
    for (const w of this.workers) w.close();
    if (!this.released) {
      this.released = true;
      await this.config.release();
      this.config.onRelease?.();
    }
  }
}

/**
 * The window: the scenario's slot pool, no more slots than packets, and no more in flight than
 * the fabric's egress queues hold: `fanIn` workers' streams share the busiest link into (and
 * out of) the aggregator, so fanIn × W frames may sit in one queue; W is capped so that uses at
 * most half of the smallest queue (a fixed window that overflows a drop-tail queue would lose
 * frames every round). Unshaped links queue nothing in sim, but over UDP the sockets and the
 * event loop are the queue, and the same bound keeps a window from flooding them.
 */
export function windowFor(fabric: Fabric, fanIn: number, pool: number, packets: number, elementsPerPacket: number, maxWindow = Infinity): number {
  const frameBytes = HEADER_BYTES + SML_HEADER_BYTES + 4 * elementsPerPacket;
  let queue = Infinity;
  for (const l of fabric.links) queue = Math.min(queue, l.config.queueBytes);
  const cap = Number.isFinite(queue) ? Math.floor(queue / 2 / (fanIn * frameBytes)) : Infinity;
  return Math.max(1, Math.min(pool, Math.max(1, packets), cap, maxWindow));
}

/** The largest one-way delay (with jitter) and the slowest shaped rate of the fabric's links. */
export function linkExtremes(fabric: Fabric): { delayNs: number; rateGbps: number } {
  let delay = 0;
  let rate = Infinity;
  for (const l of fabric.links) {
    delay = Math.max(delay, (l.config.delayUs + l.config.jitterUs) * NS_PER_US);
    if (l.config.rateGbps > 0) rate = Math.min(rate, l.config.rateGbps);
  }
  return { delayNs: delay, rateGbps: rate };
}

/**
 * A first-window RTT estimate: propagation over `depth` hops both ways plus draining fanIn
 * windows at the slowest rate.
 */
export function firstRttEstimate(fabric: Fabric, depth: number, fanIn: number, window: number, elementsPerPacket: number): number {
  const { delayNs, rateGbps } = linkExtremes(fabric);
  const frameBits = (HEADER_BYTES + SML_HEADER_BYTES + 4 * elementsPerPacket) * 8;
  const drain = Number.isFinite(rateGbps) ? (2 * fanIn * window * frameBits) / rateGbps : 0;
  return 2 * depth * delayNs + drain;
}

/**
 * A job's tuning with the first-window RTT estimate as the RTO's floor. The first window's RTT grows from one frame time to the full window's drain
 * time (the queue builds as it goes), so early samples would set an RTO far below the steady
 * RTT and fire it spuriously; the drain-time estimate is the floor.
 */
export function withRttFloor(base: SwitchmlTuning, estimateNs: number): SwitchmlTuning {
  const tuning: SwitchmlTuning = { ...base };
  tuning.minRtoNs = Math.max(tuning.minRtoNs, estimateNs);
  tuning.initialRtoNs = Math.max(tuning.initialRtoNs, 2 * estimateNs);
  return tuning;
}
