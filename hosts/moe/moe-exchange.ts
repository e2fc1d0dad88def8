import { HostAgent } from '../transport/host-agent.js';
import { FairNicQueue, type TxStream } from '../transport/nic-queue.js';
import { ACCEPT_DUPLICATE, ACCEPT_NEW, ReliableReceiver, ReliableSender, reliabilityPolicy, type ReliabilityPolicy } from '../transport/reliable-stream.js';
import type { HostStack } from '../../src/host/host-stack.js';
import type { JobBinding } from '../../src/host/job-demux.js';
import type { Clock } from '../../src/net/clock.js';
import { PROTO_MOE } from '../../src/wire/protocols.js';
import { HEADER_BYTES, makeFrame, OFF_SEQ, OFF_SRC, OFF_TIMESTAMP, OFF_TYPE } from '../../src/wire/common-header.js';
import { readF64, readU16, readU32, writeU16, writeU32 } from '../../src/wire/bytes.js';
import {
  MOE_ACK, MOE_ACK_BYTES, MOE_DATA, MOE_FLAG_RETRANSMIT, MOE_OFF_DATA, MOE_OFF_ELEM_COUNT, MOE_OFF_ELEM_OFFSET,
  MOE_OFF_FIRST_ROW, MOE_OFF_FLAGS, MOE_OFF_JOB, MOE_OFF_PHASE, MOE_OFF_ROWS, MOE_OFF_VALUE, MOE_PORT, MOE_ROW_REF_BYTES,
  frameSlice, moeDataFrameBytes, moeMaxFrameBytes, moeSourcePort, streamGeometry, type FrameSlice, type StreamGeometry,
} from '../../src/wire/moe.js';

/**
 * The all-to-all under MoE dispatch and combine: from every rank to every other rank, one
 * reliable stream of frames per phase (hosts/transport/reliable-stream.ts: a window, selective ACKs,
 * RACK and RTO retransmission), rows of `hidden` float32 elements chunked into frames as
 * src/wire/moe.ts describes. Receivers de-duplicate by sequence number, so a row is handed up
 * once however often the network duplicates or the sender repeats it; what is not new is
 * counted (`duplicates`).
 *
 * A host sends its streams' frames round robin into a NIC queue kept two frames deep (as a
 * Linux host's fq qdisc above a short byte queue limit), so no destination waits behind
 * another's whole window; ACKs go straight to the NIC.
 */

/** The rows one rank sends one peer in one phase: references, and elements row-major. */
export interface OutStream {
  readonly rows: number;
  readonly token: Int32Array;
  readonly expert: Int32Array;
  readonly choice: Int32Array;
  /** row n's elements at data[n · hidden ..] */
  readonly data: Float32Array;
}

export interface ExchangeEvents {
  /** the first frame of `peer`'s stream in `phase` announces `rows` rows; false refuses it (malformed) */
  open(phase: number, peer: number, rows: number): boolean;
  /**
   * a piece of row `row` arrived for the first time: elements [elemOffset, elemOffset +
   * elemCount) of it, as big-endian float32 in `frame` from byte `at`
   */
  piece(phase: number, peer: number, row: number, token: number, expert: number, choice: number, elemOffset: number, elemCount: number, frame: DataView, at: number): void;
  /** every frame of `peer`'s stream in `phase` has arrived */
  streamDone(phase: number, peer: number): void;
  /** a frame to `peer` went unacknowledged maxTransmissions times */
  dead(phase: number, peer: number, message: string): void;
  /**
   * every frame of this rank's stream to `peer` in `phase` is acknowledged (what a rank whose
   * peer lives in another process waits for: the peer then holds it all)
   */
  acked?(phase: number, peer: number): void;
}

/**
 * The window of each stream: all (ranks − 1) streams converging on one receiver fit its
 * downlink queue (a power of two in 8..256 frames). The reliable stream has no congestion
 * control beyond slow start, so this static allowance is what keeps an all-to-all incast from
 * tail-dropping at the receivers' leaves by construction; drops elsewhere (colliding uplinks)
 * are repaired by retransmission.
 */
export function exchangePolicy(clock: Clock, ranks: number, hidden: number, receiverQueueBytes: number): ReliabilityPolicy {
  const base = reliabilityPolicy(clock);
  const fit = Math.floor(receiverQueueBytes / (Math.max(1, ranks - 1) * moeMaxFrameBytes(hidden)));
  let window = 8;
  while (window * 2 <= Math.min(256, fit)) window *= 2;
  return { ...base, window, initialWindow: Math.min(base.initialWindow, window) };
}

/** Moe jobs share PROTO_MOE on a host (its stack demultiplexes by the job field). */
const MOE_JOBS: JobBinding = { protocol: PROTO_MOE, jobOffset: MOE_OFF_JOB, what: 'moe job' };

interface SendStream extends TxStream {
  readonly phase: number;
  readonly peer: number;
  readonly out: OutStream;
  readonly g: StreamGeometry;
  rs: ReliableSender;
  finished: boolean;
}

interface RecvStream {
  readonly g: StreamGeometry;
  readonly rr: ReliableReceiver;
  done: boolean;
}

/** The NIC queue is kept this many of the job's largest frames deep. */
const NIC_QUEUE_FRAMES = 2;

/**
 * One rank's end of the all-to-all: the senders of its streams to every peer and the
 * receivers of theirs, per phase. A HostAgent for its timers and sends (the host's MoePort
 * receives).
 */
export class MoeEndpoint extends HostAgent {
  /** every byte this rank put on its link toward each peer (DATA and ACK frames, headers included) */
  readonly bytesTo: Float64Array;
  retransmissions = 0;
  /** DATA frames received again (network duplicates, or retransmissions of what had arrived) */
  duplicates = 0;
  /** ACKs for a stream no longer sending (its phase is over) */
  lateAcks = 0;
  /** frames that do not parse or do not match their stream */
  malformed = 0;
  /** frames from an address that is no rank of this job */
  stray = 0;

  private readonly senders: Array<Array<SendStream | null>> = [[], []];
  private readonly receivers: Array<Array<RecvStream | null>> = [[], []];
  private readonly rankOf = new Map<number, number>();
  private readonly schedule = (d: number, fn: () => void) => this.after(d, fn);
  private readonly slice: FrameSlice = { firstRow: 0, rows: 0, elemOffset: 0, elemCount: 0 };
  /** streams with frames waiting for the NIC, served round robin */
  private readonly nic: FairNicQueue<SendStream>;
  private attached = false;

  constructor(
    host: HostStack,
    readonly rank: number,
    /** the address of every rank, by rank */
    private readonly addresses: readonly number[],
    /** the host name of every rank, by rank (for messages) */
    private readonly names: readonly string[],
    readonly job: number,
    readonly hidden: number,
    private readonly policy: ReliabilityPolicy,
    private readonly events: ExchangeEvents,
  ) {
    super(host, PROTO_MOE);
    addresses.forEach((a, r) => this.rankOf.set(a, r));
    this.bytesTo = new Float64Array(addresses.length);
    const rate = (host.port as { config?: { rateGbps?: number } }).config?.rateGbps ?? 0;
    const maxFrameBytes = moeMaxFrameBytes(hidden);
    this.nic = new FairNicQueue<SendStream>(this, {
      bytesPerNs: rate > 0 ? rate / 8 : 0,
      limitBytes: NIC_QUEUE_FRAMES * maxFrameBytes,
      wakeSlackBytes: maxFrameBytes,
      holdWhileWaking: true,
      send: (f, st) => this.send1(f, st.peer),
    });
  }

  attach(): void {
    this.host.attachJob(MOE_JOBS, this.job, this);
    this.attached = true;
  }

  /** Stops every stream and timer and unbinds; safe to call twice. */
  detach(): void {
    for (const phase of [0, 1]) {
      this.stopPhase(phase);
      for (const r of this.receivers[phase]!) r?.rr.stop();
    }
    this.stop();
    if (!this.attached) return;
    this.attached = false;
    this.host.detachJob(MOE_JOBS, this.job, this);
  }

  /** Starts this rank's streams of `phase`: streams[peer] for every peer but itself. */
  startPhase(phase: number, streams: ReadonlyArray<OutStream | null>): void {
    const list = this.senders[phase]!;
    for (let peer = 0; peer < this.addresses.length; peer++) {
      if (peer === this.rank) continue;
      const out = streams[peer];
      if (!out) throw new Error(`moe exchange: rank ${this.rank} has no ${phaseName(phase)} stream for rank ${peer}`);
      const g = streamGeometry(out.rows, this.hidden);
      const s: SendStream = {
        phase, peer, out, g, rs: null as unknown as ReliableSender, txq: [], txHead: 0, inRing: false, finished: false,
      };
      s.rs = new ReliableSender(this.policy, this.host.clock, this.schedule, {
        transmit: (seq, _a, _b, re) => this.transmit(s, seq, re),
        dead: (seq, _a, _b, tries) => {
          this.finishSender(s);
          this.events.dead(phase, peer, `peer ${this.names[peer]} (rank ${peer}) unresponsive: ${this.host.name} (rank ${this.rank}) sent it ${phaseName(phase)} frame ${seq} ${tries} times without an ACK`);
        },
      }, g.frames);
      list[peer] = s;
    }
    // every stream first, then their frames: a sender may call back into others while sending
    for (const s of list) {
      if (s === null || s === undefined) continue;
      s.rs.reset();
      for (let seq = 0; seq < s.g.frames; seq++) s.rs.enqueue(seq, 0);
    }
  }

  /** The phase is over everywhere: its senders stop (frames still queued are not needed). */
  stopPhase(phase: number): void {
    for (const s of this.senders[phase]!) if (s) this.finishSender(s);
  }

  private finishSender(s: SendStream): void {
    if (s.finished) return;
    s.finished = true;
    s.rs.stop();
    this.retransmissions += s.rs.retransmissions;
    // frames still waiting are no longer needed
    this.nic.clear(s);
  }

  private send1(f: Uint8Array, peer: number): void {
    this.bytesTo[peer] = this.bytesTo[peer]! + f.length;
    this.send(f);
  }

  // ---- sending ---------------------------------------------------------------------------------

  private transmit(s: SendStream, seq: number, retransmission: boolean): void {
    const sl = frameSlice(s.g, seq, this.slice);
    const f = makeFrame(
      {
        type: MOE_DATA,
        protocol: PROTO_MOE,
        src: this.host.address,
        dst: this.addresses[s.peer]!,
        srcPort: moeSourcePort(this.job, s.phase),
        dstPort: MOE_PORT,
        seq,
        timestamp: this.now,
      },
      moeDataFrameBytes(sl.rows, sl.elemCount) - HEADER_BYTES,
    );
    f[MOE_OFF_PHASE] = s.phase;
    f[MOE_OFF_FLAGS] = retransmission ? MOE_FLAG_RETRANSMIT : 0;
    writeU16(f, MOE_OFF_JOB, this.job);
    writeU32(f, MOE_OFF_VALUE, s.g.rows);
    writeU32(f, MOE_OFF_FIRST_ROW, sl.firstRow);
    writeU16(f, MOE_OFF_ROWS, sl.rows);
    writeU32(f, MOE_OFF_ELEM_OFFSET, sl.elemOffset);
    writeU32(f, MOE_OFF_ELEM_COUNT, sl.elemCount);
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const { token, expert, choice, data } = s.out;
    const hidden = this.hidden;
    let o = MOE_OFF_DATA;
    for (let r = sl.firstRow, end = sl.firstRow + sl.rows; r < end; r++) {
      dv.setUint32(o, token[r]!);
      dv.setUint16(o + 4, expert[r]!);
      dv.setUint8(o + 6, choice[r]!);
      o += MOE_ROW_REF_BYTES;
      for (let i = r * hidden + sl.elemOffset, n = i + sl.elemCount; i < n; i++, o += 4) dv.setFloat32(o, data[i]!);
    }
    this.nic.enqueue(s, f);
  }

  private sendAck(phase: number, peer: number, sel: number, cum: number, echoTs: number): void {
    const f = makeFrame(
      {
        type: MOE_ACK,
        protocol: PROTO_MOE,
        src: this.host.address,
        dst: this.addresses[peer]!,
        srcPort: MOE_PORT,
        dstPort: moeSourcePort(this.job, phase),
        seq: sel,
        timestamp: echoTs,
      },
      MOE_ACK_BYTES - HEADER_BYTES,
    );
    f[MOE_OFF_PHASE] = phase;
    writeU16(f, MOE_OFF_JOB, this.job);
    writeU32(f, MOE_OFF_VALUE, cum);
    this.send1(f, peer);
  }

  // ---- receiving -------------------------------------------------------------------------------

  onFrame(f: Uint8Array): void {
    const peer = this.rankOf.get(readU32(f, OFF_SRC));
    if (peer === undefined || peer === this.rank) {
      this.stray++;
      return;
    }
    const phase = f[MOE_OFF_PHASE]!;
    if (phase > 1) {
      this.malformed++;
      return;
    }
    const type = f[OFF_TYPE];
    if (type === MOE_DATA) this.onData(f, phase, peer);
    else if (type === MOE_ACK) this.onAck(f, phase, peer);
    else this.malformed++;
  }

  private onAck(f: Uint8Array, phase: number, peer: number): void {
    if (f.length !== MOE_ACK_BYTES) {
      this.malformed++;
      return;
    }
    const s = this.senders[phase]![peer];
    if (!s || s.finished) {
      this.lateAcks++;
      return;
    }
    s.rs.onAck(readU32(f, OFF_SEQ), readU32(f, MOE_OFF_VALUE), readF64(f, OFF_TIMESTAMP));
    if (s.rs.inFlight === 0 && s.rs.queued === 0 && !s.finished) {
      this.finishSender(s);
      this.events.acked?.(phase, peer);
    }
  }

  private onData(f: Uint8Array, phase: number, peer: number): void {
    const rows = readU32(f, MOE_OFF_VALUE);
    let r = this.receivers[phase]![peer];
    if (!r) {
      if (!this.events.open(phase, peer, rows)) {
        this.malformed++;
        return;
      }
      const g = streamGeometry(rows, this.hidden);
      const rr = new ReliableReceiver(this.policy, this.host.clock, this.schedule, {
        ack: (sel, cum, ts) => this.sendAck(phase, peer, sel, cum, ts),
      });
      rr.reset(g.frames);
      r = { g, rr, done: false };
      this.receivers[phase]![peer] = r;
    }
    const g = r.g;
    const seq = readU32(f, OFF_SEQ);
    if (rows !== g.rows || seq >= g.frames) {
      this.malformed++;
      return;
    }
    const sl = frameSlice(g, seq, this.slice);
    if (
      readU32(f, MOE_OFF_FIRST_ROW) !== sl.firstRow || readU16(f, MOE_OFF_ROWS) !== sl.rows ||
      readU32(f, MOE_OFF_ELEM_OFFSET) !== sl.elemOffset || readU32(f, MOE_OFF_ELEM_COUNT) !== sl.elemCount ||
      f.length !== moeDataFrameBytes(sl.rows, sl.elemCount)
    ) {
      this.malformed++;
      return;
    }
    const verdict = r.rr.accept(seq, readF64(f, OFF_TIMESTAMP));
    if (verdict !== ACCEPT_NEW) {
      if (verdict === ACCEPT_DUPLICATE) this.duplicates++;
      else this.malformed++;
      return;
    }
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    let o = MOE_OFF_DATA;
    const stride = MOE_ROW_REF_BYTES + 4 * sl.elemCount;
    for (let row = sl.firstRow, end = sl.firstRow + sl.rows; row < end; row++, o += stride) {
      this.events.piece(phase, peer, row, dv.getUint32(o), dv.getUint16(o + 4), dv.getUint8(o + 6), sl.elemOffset, sl.elemCount, dv, o + MOE_ROW_REF_BYTES);
    }
    if (!r.done && r.rr.cumulative === g.frames) {
      r.done = true;
      this.events.streamDone(phase, peer);
    }
  }
}

export function phaseName(phase: number): string {
  return phase === 0 ? 'dispatch' : 'combine';
}
