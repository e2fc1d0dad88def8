import { HostAgent } from '../transport/host-agent.js';
import { FairNicQueue, type TxStream } from '../transport/nic-queue.js';
import { ACCEPT_NEW, ACCEPT_OUT_OF_RANGE, ReliableReceiver, ReliableSender, reliabilityPolicy, type ReliabilityPolicy } from '../transport/reliable-stream.js';
import { DISTRIBUTIONS, meanOfCdf, sampleCdf } from './flow-size-distributions.js';
import {
  SIZE_BINS, binOf, bestIdealFctNs, hostPaths, linkLoads, maxSwitchQueueBytes, meanImbalance, slowdown, summarize,
  uplinkBytes, type Hop, type Summary,
} from './flow-metrics.js';
import type { WorkloadContext, WorkloadModule } from '../../src/run/workload.js';
import type { HostStack } from '../../src/host/host-stack.js';
import type { JobBinding } from '../../src/host/job-demux.js';
import type { Rng } from '../../src/net/rng.js';
import type { GenericResult } from '../../src/report/types.js';
import { round } from '../../src/report/types.js';
import { Deferred } from '../../src/run/deferred.js';
import { NS_PER_MS } from '../../src/net/clock.js';
import { PROTO_FLOW } from '../../src/wire/protocols.js';
import { makeFrame, OFF_FLAGS, OFF_SEQ, OFF_SRC, OFF_SRCPORT, OFF_TIMESTAMP, OFF_TYPE } from '../../src/wire/common-header.js';
import { readF64, readU16, readU32, writeU16, writeU32 } from '../../src/wire/bytes.js';
import {
  FLOW_ACK, FLOW_BASE_PORT, FLOW_DATA, FLOW_FLAG_RETRANSMIT, FLOW_HEADER_BYTES, FLOW_MSS, FLOW_OFF_DATA, FLOW_OFF_FLOW,
  FLOW_OFF_JOB, FLOW_OFF_VALUE, flowFrames,
} from '../../src/wire/flow.js';

/**
 * The `flows` workload of the load-balancing literature: flows with sizes drawn from the
 * WebSearch or DataMining distribution (or fixed), Poisson arrivals at a rate that offers
 * `load` of the host links' capacity, between hosts chosen by a pattern:
 *   all-to-all   source and destination uniform, distinct
 *   permutation  source uniform, destination its image in a random derangement (one cycle)
 *   incast       every flow to the first host, from a uniform other host; load is of its link
 * Each flow is a reliable stream (hosts/transport/reliable-stream.ts: a window, selective ACKs, RACK and
 * RTO retransmission) of FLOW_MSS-byte frames whose bytes follow a pattern fixed by (flow, offset),
 * checked on arrival. Receivers count first transmissions arriving behind a higher sequence
 * number (reordering). A flow completes when its receiver holds every byte; its FCT runs from its
 * arrival at the sender to then.
 *
 * The report: FCT slowdown (FCT over the ideal FCT of the flow alone on the idle fabric's best
 * path, at least 1) as mean/p50/p95/p99, overall and per size bin; link utilisation and
 * queues; uplink imbalance; reordered packets; retransmissions.
 */

export type FlowDistribution = 'websearch' | 'datamining' | 'fixed';
export type FlowPattern = 'all-to-all' | 'permutation' | 'incast';

export interface FlowsSpec {
  distribution: FlowDistribution;
  /** fixed distribution only */
  sizeBytes: number;
  /** offered load, a fraction of the host links' rate */
  load: number;
  count: number;
  pattern: FlowPattern;
  /** multiplies every drawn size (sim budgets); bins use the drawn, unscaled size */
  sizeScale?: number;
  loadBalancing?: readonly string[];
  name?: string;
}

/** One flow of the plan: hosts by index into the workload's hosts, times from the start. */
export interface FlowPlan {
  id: number;
  src: number;
  dst: number;
  /** bytes sent */
  size: number;
  /** the size drawn from the distribution, before sizeScale */
  drawn: number;
  startNs: number;
  /** the flow's source port, an ephemeral port as a host stack would pick (5-tuples differ per seed) */
  srcPort: number;
}

/** rate assumed for an unshaped host link (rateGbps 0) when turning load into arrivals */
export const NOMINAL_HOST_GBPS = 10;
/** frames in flight per flow: well above the bandwidth-delay product of the fabrics here */
export const FLOW_WINDOW = 64;

/** The mean flow size the spec offers, after scaling. */
export function meanFlowBytes(spec: Pick<FlowsSpec, 'distribution' | 'sizeBytes' | 'sizeScale'>): number {
  const mean = spec.distribution === 'fixed' ? spec.sizeBytes : meanOfCdf(DISTRIBUTIONS[spec.distribution]);
  return Math.max(1, mean * (spec.sizeScale ?? 1));
}

/** A random derangement with a single cycle (Sattolo's algorithm): nobody sends to itself. */
function derangement(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * The flows, drawn up front from separate streams (arrivals, sizes, endpoints), so the same seed
 * gives the same flows whatever the fabric runs.
 */
export function planFlows(spec: FlowsSpec, hostRatesGbps: readonly number[], rng: Rng): FlowPlan[] {
  const n = hostRatesGbps.length;
  if (n < 2) throw new Error('flows need at least 2 hosts');
  const bytesPerNs = (g: number): number => (g > 0 ? g : NOMINAL_HOST_GBPS) / 8;
  const capacity = spec.pattern === 'incast' ? bytesPerNs(hostRatesGbps[0]!) : hostRatesGbps.reduce((s, g) => s + bytesPerNs(g), 0);
  const lambda = (spec.load * capacity) / meanFlowBytes(spec); // flows per ns
  const scale = spec.sizeScale ?? 1;
  const arrivals = rng.fork('arrivals');
  const sizes = rng.fork('sizes');
  const ends = rng.fork('endpoints');
  const ports = rng.fork('ports');
  const perm = spec.pattern === 'permutation' ? derangement(n, rng.fork('permutation')) : null;
  const cdf = spec.distribution === 'fixed' ? null : DISTRIBUTIONS[spec.distribution];
  const out: FlowPlan[] = [];
  let t = 0;
  for (let id = 0; id < spec.count; id++) {
    t += -Math.log(1 - arrivals.next()) / lambda;
    const drawn = cdf === null ? spec.sizeBytes : sampleCdf(cdf, sizes.next());
    const size = Math.max(1, Math.round(drawn * scale));
    let src: number;
    let dst: number;
    if (spec.pattern === 'incast') {
      dst = 0;
      src = 1 + ends.int(n - 1);
    } else {
      src = ends.int(n);
      if (perm !== null) dst = perm[src]!;
      else {
        dst = ends.int(n - 1);
        if (dst >= src) dst++;
      }
    }
    out.push({ id, src, dst, size, drawn, startNs: t, srcPort: 49152 + ports.int(16384) });
  }
  return out;
}

// ---- the bytes of a flow -------------------------------------------------------------------------

/** 256 + MSS bytes of a fixed pseudo-random sequence; a frame's data is a window of it */
const PATTERN = (() => {
  const p = new Uint8Array(256 + FLOW_MSS);
  let x = 0x2545f491;
  for (let i = 0; i < p.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    p[i] = x >>> 24;
  }
  return p;
})();

/** where frame `seq` of flow `flow` takes its bytes from in PATTERN */
const patternOffset = (flow: number, seq: number): number => (Math.imul(flow, 31) + Math.imul(seq, 17)) & 255;

/** bytes of data in frame seq of a flow of `size` bytes */
const frameDataBytes = (size: number, seq: number): number => Math.max(0, Math.min(FLOW_MSS, size - seq * FLOW_MSS));

function intact(f: Uint8Array, flow: number, seq: number, len: number): boolean {
  const o = patternOffset(flow, seq);
  for (let i = 0; i < len; i++) if (f[FLOW_OFF_DATA + i] !== PATTERN[o + i]) return false;
  return true;
}

// ---- agents --------------------------------------------------------------------------------------

/** Flows jobs share PROTO_FLOW on a host (its stack demultiplexes by the job field). */
const FLOW_JOBS: JobBinding = { protocol: PROTO_FLOW, jobOffset: FLOW_OFF_JOB, what: 'flows job' };

interface SendState extends TxStream {
  plan: FlowPlan;
  frames: number;
  dstAddress: number;
  rs: ReliableSender;
}

/**
 * The host's NIC queue is kept this short (byte queue limits / TCP small queues, as a Linux
 * host does); frames wait above it in a per-flow round robin (the fq qdisc), so a mouse is not
 * stuck behind another flow's window in a FIFO at its own host.
 */
const MAX_FLOW_FRAME = FLOW_OFF_DATA + FLOW_MSS;
export const NIC_QUEUE_FRAMES = 3;

/** The NIC queue limit: a few frames, or two timer ticks' worth at line rate where timers are coarse. */
export function nicQueueLimitBytes(rateGbps: number, granularityNs: number): number {
  return Math.max(NIC_QUEUE_FRAMES * MAX_FLOW_FRAME, Math.ceil(2 * (rateGbps / 8) * granularityNs));
}

interface RecvState {
  flow: number;
  size: number;
  frames: number;
  srcAddress: number;
  /** the sender's port, for the ACKs' 5-tuple */
  srcPort: number;
  rr: ReliableReceiver;
  bytes: number;
  /** highest seq of a first transmission seen (-1 none) */
  maxSeq: number;
  done: boolean;
}

/** What a job learns as its flows progress (the job's own bookkeeping lives in runFlows). */
interface JobEvents {
  /** the receiver holds every frame of the flow */
  received(flow: number, atNs: number, r: RecvState): void;
  /** the sender has every frame acknowledged (so the receiver holds them all) */
  acked(flow: number, atNs: number): void;
  /** the sender gave up */
  failed(flow: number): void;
}

/**
 * A job's agent on one host: the senders of the flows leaving it and the receivers of those
 * arriving. A HostAgent for its timers and sends (the host's FlowPort receives).
 */
class FlowHost extends HostAgent {
  readonly senders = new Map<number, SendState>();
  readonly receivers = new Map<number, RecvState>();
  reordered = 0;
  retransmissions = 0;
  corrupt = 0;
  malformed = 0;
  /** frames not from the flow's expected peer (address and port): refused, never data */
  stray = 0;
  private readonly schedule = (d: number, fn: () => void) => this.after(d, fn);
  /** flows with frames waiting for the NIC, served round robin */
  private readonly nic: FairNicQueue<SendState>;

  constructor(
    host: HostStack,
    readonly job: number,
    private readonly policy: ReliabilityPolicy,
    private readonly events: JobEvents,
    /** every flow of the job, by id, and the job's host addresses by index: who may send what */
    private readonly plans: readonly FlowPlan[],
    private readonly addresses: readonly number[],
  ) {
    super(host, PROTO_FLOW);
    const rate = (host.port as { config?: { rateGbps?: number } }).config?.rateGbps ?? 0;
    this.nic = new FairNicQueue<SendState>(this, {
      bytesPerNs: rate > 0 ? rate / 8 : 0,
      limitBytes: nicQueueLimitBytes(rate, policy.granularityNs),
      wakeSlackBytes: MAX_FLOW_FRAME,
      holdWhileWaking: false,
      send: (f) => this.send(f),
    });
  }

  attach(): void {
    this.host.attachJob(FLOW_JOBS, this.job, this);
  }

  detach(): void {
    for (const s of this.senders.values()) this.finishSender(s);
    for (const r of this.receivers.values()) r.rr.stop();
    this.stop();
    this.host.detachJob(FLOW_JOBS, this.job, this);
  }

  startFlow(plan: FlowPlan, dstAddress: number): void {
    const frames = flowFrames(plan.size);
    const s: SendState = { plan, frames, dstAddress, rs: null as unknown as ReliableSender, txq: [], txHead: 0, inRing: false };
    s.rs = new ReliableSender(this.policy, this.host.clock, this.schedule, {
      transmit: (seq, _a, _b, retransmission) => this.transmit(s, seq, retransmission),
      dead: () => {
        this.finishSender(s);
        this.events.failed(plan.id);
      },
    }, Math.min(frames, 1 << 16));
    this.senders.set(plan.id, s);
    s.rs.reset();
    for (let k = 0; k < frames; k++) s.rs.enqueue(k, 0);
  }

  private finishSender(s: SendState): void {
    s.rs.stop();
    this.retransmissions += s.rs.retransmissions;
    this.senders.delete(s.plan.id);
    // frames still waiting are no longer needed: the receiver has them all (or the flow died)
    this.nic.clear(s);
  }

  private transmit(s: SendState, seq: number, retransmission: boolean): void {
    const len = frameDataBytes(s.plan.size, seq);
    const f = makeFrame(
      {
        type: FLOW_DATA,
        flags: retransmission ? FLOW_FLAG_RETRANSMIT : 0,
        protocol: PROTO_FLOW,
        src: this.host.address,
        dst: s.dstAddress,
        srcPort: s.plan.srcPort,
        dstPort: FLOW_BASE_PORT + this.job,
        seq,
        timestamp: this.now,
      },
      FLOW_HEADER_BYTES + len,
    );
    writeU16(f, FLOW_OFF_JOB, this.job);
    writeU32(f, FLOW_OFF_FLOW, s.plan.id);
    writeU32(f, FLOW_OFF_VALUE, s.plan.size);
    const o = patternOffset(s.plan.id, seq);
    f.set(PATTERN.subarray(o, o + len), FLOW_OFF_DATA);
    this.nic.enqueue(s, f);
  }

  onFrame(f: Uint8Array): void {
    if (f.length < FLOW_OFF_DATA) {
      this.malformed++;
      return;
    }
    const type = f[OFF_TYPE];
    if (type === FLOW_DATA) this.onData(f);
    else if (type === FLOW_ACK) this.onAck(f);
    else this.malformed++;
  }

  private onAck(f: Uint8Array): void {
    const s = this.senders.get(readU32(f, FLOW_OFF_FLOW));
    if (s === undefined) return; // a late ACK of a finished flow
    if (readU32(f, OFF_SRC) !== s.dstAddress || readU16(f, OFF_SRCPORT) !== FLOW_BASE_PORT + this.job) {
      this.stray++;
      return;
    }
    s.rs.onAck(readU32(f, OFF_SEQ), readU32(f, FLOW_OFF_VALUE), readF64(f, OFF_TIMESTAMP));
    if (s.rs.inFlight === 0 && s.rs.queued === 0 && this.senders.get(s.plan.id) === s) {
      this.finishSender(s);
      this.events.acked(s.plan.id, this.now);
    }
  }

  /** retransmissions so far, of finished flows and of those still sending */
  retransmissionsSoFar(): number {
    let n = this.retransmissions;
    for (const s of this.senders.values()) n += s.rs.retransmissions;
    return n;
  }

  private onData(f: Uint8Array): void {
    const flow = readU32(f, FLOW_OFF_FLOW);
    const size = readU32(f, FLOW_OFF_VALUE);
    let r = this.receivers.get(flow);
    if (r === undefined) {
      // A flow is received only from the sender its plan names (address and port), and with
      // the plan's size: a frame from anyone else must not claim the flow id first.
      const plan = this.plans[flow];
      if (plan === undefined || this.addresses[plan.dst] !== this.host.address || readU32(f, OFF_SRC) !== this.addresses[plan.src] || readU16(f, OFF_SRCPORT) !== plan.srcPort) {
        this.stray++;
        return;
      }
      const frames = flowFrames(plan.size);
      const state: RecvState = {
        flow, size: plan.size, frames, srcAddress: this.addresses[plan.src]!, srcPort: plan.srcPort, bytes: 0, maxSeq: -1, done: false,
        rr: null as unknown as ReliableReceiver,
      };
      state.rr = new ReliableReceiver(this.policy, this.host.clock, this.schedule, { ack: (sel, cum, ts) => this.ack(state, sel, cum, ts) });
      state.rr.reset(frames);
      this.receivers.set(flow, state);
      r = state;
    }
    const seq = readU32(f, OFF_SEQ);
    const len = frameDataBytes(r.size, seq);
    if (readU32(f, OFF_SRC) !== r.srcAddress || readU16(f, OFF_SRCPORT) !== r.srcPort) {
      this.stray++;
      return;
    }
    if (size !== r.size || f.length !== FLOW_OFF_DATA + len) {
      this.corrupt++;
      return;
    }
    const verdict = r.rr.accept(seq, readF64(f, OFF_TIMESTAMP));
    if (verdict === ACCEPT_OUT_OF_RANGE) {
      this.corrupt++;
      return;
    }
    if (verdict !== ACCEPT_NEW) return;
    if (!intact(f, flow, seq, len)) {
      // counted, and the bytes counted as missing: the flow will not pass as intact
      this.corrupt++;
      return;
    }
    r.bytes += len;
    if ((f[OFF_FLAGS]! & FLOW_FLAG_RETRANSMIT) === 0) {
      if (seq < r.maxSeq) this.reordered++;
      else r.maxSeq = seq;
    }
    if (!r.done && r.rr.cumulative === r.frames) {
      r.done = true;
      this.events.received(flow, this.now, r);
    }
  }

  private ack(r: RecvState, sel: number, cum: number, echoTs: number): void {
    const f = makeFrame(
      {
        type: FLOW_ACK,
        protocol: PROTO_FLOW,
        src: this.host.address,
        dst: r.srcAddress,
        srcPort: FLOW_BASE_PORT + this.job,
        dstPort: r.srcPort,
        seq: sel,
        timestamp: echoTs,
      },
      FLOW_HEADER_BYTES,
    );
    writeU16(f, FLOW_OFF_JOB, this.job);
    writeU32(f, FLOW_OFF_FLOW, r.flow);
    writeU32(f, FLOW_OFF_VALUE, cum);
    this.send(f);
  }
}

// ---- the workload --------------------------------------------------------------------------------

/** The host link rate of each participating host (0 = unshaped). */
export function hostRates(ctx: Pick<WorkloadContext, 'fabric' | 'hosts'>): number[] {
  return ctx.hosts.map((h) => ctx.fabric.links.find((l) => l.spec.a === h.name || l.spec.b === h.name)?.config.rateGbps ?? 0);
}

/**
 * The reliability policy of flows: the stream's, and in sim a per-flow window of FLOW_WINDOW
 * frames and a first RTO for µs fabrics. Over UDP, round trips are milliseconds (timer ticks,
 * socket hops), so the stream's own larger window stays.
 */
export function flowPolicy(ctx: Pick<WorkloadContext, 'clock'>): ReliabilityPolicy {
  const base = reliabilityPolicy(ctx.clock);
  return ctx.clock.kind === 'sim' ? { ...base, window: FLOW_WINDOW, initialRtoNs: 2 * NS_PER_MS } : base;
}

export interface BinResult extends Summary {
  flows: number;
}

export interface FlowsResult extends GenericResult {
  workload: 'flows';
  loadBalancing: string;
  distribution: FlowDistribution;
  pattern: FlowPattern;
  load: number;
  sizeScale: number;
  flows: number;
  completed: number;
  failed: number;
  fctSlowdown: Summary;
  fctUs: Summary;
  slowdownByBin: Record<string, BinResult>;
  reorderedPackets: number;
  retransmissions: number;
  corruptFrames: number;
  uplinkImbalance: number;
  uplinks: ReturnType<typeof uplinkBytes>;
  maxQueueBytes: number;
  timeSec: number;
  linkLoad: ReturnType<typeof linkLoads>;
  correct: boolean;
}

/**
 * What one process's copy of a flows job made of its flows, gathered from every copy. Per flow
 * (ids ascending): `full` when both ends are local (FCT from the receiver, as in one process),
 * `sent` for a local sender whose receiver lives elsewhere, `recv` for the converse.
 */
interface FlowTally {
  /** from the barrier that started the flows to this copy's part being done, this copy's clock */
  elapsedNs: number;
  /** [flow, status (1 received, 2 failed), FCT ns (-1 unknown), bytes received] */
  full: number[][];
  /** [flow, status (1 every frame acknowledged, 2 the sender gave up), FCT ns at the sender (-1 unknown)] */
  sent: number[][];
  /** [flow, bytes received, 1 if the receiver holds every frame] */
  recv: number[][];
  reordered: number;
  retransmissions: number;
  corrupt: number;
}

/**
 * A flows job, written to run as one copy per process (`ina up`: the coordinator and one host
 * per node; `ina run`: one copy with every host). Each copy starts agents on its own hosts only.
 *
 * A flow's FCT is measured on one clock. When its sender and receiver share a process it runs
 * from the flow's arrival at the sender to its receiver holding every byte (the definition of
 * the literature, and all of `ina run`); across processes it runs to the sender having every byte
 * acknowledged, which adds the last ACK's trip. A copy is done when every flow it sends has
 * completed (a shared-process flow: received or given up; a flow to another process: every
 * frame acknowledged, which implies the receiver holds them, or given up). Agents keep answering
 * until every copy has handed in its tally.
 */
export async function runFlows(ctx: WorkloadContext, spec: FlowsSpec): Promise<FlowsResult> {
  const hosts = ctx.hosts;
  const plans = planFlows(spec, hostRates(ctx), ctx.rng.fork('flows'));
  // job ids come from the leader, so every process's copy of concurrent jobs agrees on them
  const job = await ctx.cluster.atLeader('flows: job id', () => ctx.fabric.jobIds.next('flows'));
  const policy = flowPolicy(ctx);
  const n = plans.length;
  const local = hosts.map((h) => ctx.cluster.isLocal(h.name));
  const sendsHere = (p: FlowPlan): boolean => local[p.src]!;
  const bothHere = (p: FlowPlan): boolean => local[p.src]! && local[p.dst]!;
  // this copy's bookkeeping, by flow id
  const fctNs = new Float64Array(n).fill(-1);
  const receivedBytes = new Float64Array(n);
  const status = new Uint8Array(n); // shared-process flows: 0 running, 1 received, 2 failed
  const sendStatus = new Uint8Array(n); // cross-process flows sent here: 0 running, 1 acknowledged, 2 failed
  const recvDone = new Uint8Array(n); // cross-process flows received here
  const waited = plans.filter(sendsHere).length;
  let settled = 0;
  const done = new Deferred<void>(`flows (${spec.count} flows)`);
  let t0 = 0;
  const settle = (): void => {
    settled++;
    ctx.progress(settled / waited);
    if (settled === waited) done.resolve();
  };
  const events: JobEvents = {
    received(flow, at, r) {
      if (flow >= n) return;
      if (!bothHere(plans[flow]!)) {
        receivedBytes[flow] = r.bytes;
        recvDone[flow] = 1;
        return;
      }
      if (status[flow] === 1) return;
      const first = status[flow] === 0;
      status[flow] = 1;
      fctNs[flow] = at - (t0 + plans[flow]!.startNs);
      receivedBytes[flow] = r.bytes;
      if (first) settle();
      else ctx.progress(settled / waited);
    },
    acked(flow, at) {
      if (flow >= n || bothHere(plans[flow]!) || sendStatus[flow] !== 0) return;
      sendStatus[flow] = 1;
      fctNs[flow] = at - (t0 + plans[flow]!.startNs);
      settle();
    },
    failed(flow) {
      if (flow >= n) return;
      if (!bothHere(plans[flow]!)) {
        if (sendStatus[flow] !== 0) return;
        sendStatus[flow] = 2;
      } else {
        if (status[flow] !== 0) return;
        status[flow] = 2;
      }
      settle();
    },
  };
  const addresses = hosts.map((h) => h.address);
  const agents = hosts.flatMap((h, i) => (local[i] ? [new FlowHost(h, job, policy, events, plans, addresses)] : []));
  const agentOf = new Map(agents.map((a) => [a.host, a]));
  const before = await ctx.linkReports();
  let tallies: FlowTally[];
  try {
    agents.forEach((a) => a.attach());
    // no frame reaches a host before its agent is bound
    await ctx.cluster.allGather('flows: every host listening', null);
    t0 = ctx.clock.now();
    for (const p of plans) {
      if (!sendsHere(p)) continue;
      const a = agentOf.get(hosts[p.src]!)!;
      a.after(p.startNs, () => a.startFlow(p, hosts[p.dst]!.address));
    }
    if (waited === 0) done.resolve();
    await ctx.driver.wait(done);
    const elapsedNs = ctx.clock.now() - t0;
    // Once every copy's senders are done, every acknowledged flow is recorded at its receiver
    // (a receiver records a flow before it acknowledges the last frame): receivers tally after.
    await ctx.cluster.allGather('flows: every sender done', null);
    const mine: FlowTally = { elapsedNs, full: [], sent: [], recv: [], reordered: 0, retransmissions: 0, corrupt: 0 };
    plans.forEach((p, i) => {
      if (bothHere(p)) {
        if (status[i] !== 0) mine.full.push([i, status[i]!, fctNs[i]!, receivedBytes[i]!]);
      } else if (local[p.src]) mine.sent.push([i, sendStatus[i]!, sendStatus[i] === 1 ? fctNs[i]! : -1]);
      else if (local[p.dst]) mine.recv.push([i, receivedBytes[i]!, recvDone[i]!]);
    });
    for (const a of agents) {
      mine.reordered += a.reordered;
      mine.retransmissions += a.retransmissionsSoFar();
      mine.corrupt += a.corrupt + a.malformed;
    }
    // agents keep answering (ACKs, retransmissions) until every copy has its tally
    tallies = await ctx.cluster.allGather('flows: results', agents.length > 0 ? mine : null);
  } finally {
    agents.forEach((a) => a.detach());
  }
  const after = await ctx.linkReports();
  // the run took as long as its slowest copy saw it take
  const durationNs = tallies.reduce((m, t) => Math.max(m, t.elapsedNs), 0);

  // Every copy's records, merged by flow id (the same in every copy, whatever the order).
  const fct = new Float64Array(n).fill(-1);
  const bytes = new Float64Array(n);
  const merged = new Uint8Array(n); // 0 running, 1 received, 2 failed
  const sent = new Map<number, number[]>();
  const recv = new Map<number, number[]>();
  for (const t of tallies) {
    for (const [i, st, f, b] of t.full) {
      merged[i!] = st!;
      fct[i!] = f!;
      bytes[i!] = b!;
    }
    for (const r of t.sent) sent.set(r[0]!, r);
    for (const r of t.recv) recv.set(r[0]!, r);
  }
  for (const [i, st, f] of sent.values()) {
    const r = recv.get(i!);
    bytes[i!] = r?.[1] ?? 0;
    // acknowledged means received; a flow its sender gave up on has no FCT on one clock
    if (st === 1) {
      merged[i!] = 1;
      fct[i!] = f!;
    } else if (st === 2) merged[i!] = 2;
  }

  // Slowdowns against the ideal FCT on the idle fabric's best path.
  const paths = new Map<string, Hop[][]>();
  const slow: number[] = [];
  const fctUs: number[] = [];
  const byBin = new Map<string, number[]>(SIZE_BINS.map((b) => [b.name, []]));
  plans.forEach((p, i) => {
    if (merged[i] !== 1) return;
    const key = `${p.src}>${p.dst}`;
    let ps = paths.get(key);
    if (ps === undefined) paths.set(key, (ps = hostPaths(ctx.fabric, hosts[p.src]!.name, hosts[p.dst]!.name)));
    const s = slowdown(fct[i]!, bestIdealFctNs(p.size, ps));
    slow.push(s);
    fctUs.push(fct[i]! / 1000);
    byBin.get(binOf(p.drawn))!.push(s);
  });
  const completed = slow.length;
  const failed = plans.filter((_, i) => merged[i] === 2).length;
  const corrupt = tallies.reduce((s, t) => s + t.corrupt, 0);
  const intactBytes = plans.every((p, i) => merged[i] === 1 && bytes[i] === p.size);
  const uplinks = uplinkBytes(ctx.fabric, before, after);
  const slowdownByBin: Record<string, BinResult> = {};
  for (const [name, xs] of byBin) slowdownByBin[name] = { flows: xs.length, ...summarize(xs) };
  return {
    workload: 'flows',
    ...(spec.name ? { name: spec.name } : {}),
    loadBalancing: ctx.loadBalancing ?? spec.loadBalancing?.[0] ?? 'ecmp',
    distribution: spec.distribution,
    pattern: spec.pattern,
    load: spec.load,
    sizeScale: spec.sizeScale ?? 1,
    flows: n,
    completed,
    failed,
    fctSlowdown: summarize(slow),
    fctUs: summarize(fctUs),
    slowdownByBin,
    reorderedPackets: tallies.reduce((s, t) => s + t.reordered, 0),
    retransmissions: tallies.reduce((s, t) => s + t.retransmissions, 0),
    corruptFrames: corrupt,
    uplinkImbalance: meanImbalance(uplinks),
    uplinks,
    maxQueueBytes: maxSwitchQueueBytes(ctx.fabric, after),
    timeSec: round(durationNs / 1e9, 9),
    linkLoad: linkLoads(ctx.fabric, before, after, durationNs),
    correct: completed === n && corrupt === 0 && intactBytes,
  };
}

const flows: WorkloadModule<FlowsSpec> = {
  kind: 'flows',
  distributed: true,
  async run(ctx, spec) {
    return [await runFlows(ctx, spec)];
  },
};

export default flows;
