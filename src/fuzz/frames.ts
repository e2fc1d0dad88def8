import type { Rng } from '../net/rng.js';
import { writeF64, writeI32, writeU16, writeU32 } from '../wire/bytes.js';
import {
  HEADER_BYTES, MAX_FRAME_BYTES, OFF_CONGESTION, OFF_DST, OFF_DSTPORT, OFF_ECN, OFF_FEEDBACK, OFF_FLAGS, OFF_PATHTAG, OFF_PAYLOADLEN,
  OFF_PROTOCOL, OFF_SEQ, OFF_SRC, OFF_SRCPORT, OFF_TIMESTAMP, OFF_TTL, OFF_TYPE, OFF_VERSION, WIRE_VERSION, writeFrameHeader,
} from '../wire/common-header.js';
import { encodeFeedback, FLAG_CONGA } from '../wire/conga.js';
import { FLOW_ACK, FLOW_BASE_PORT, FLOW_DATA, FLOW_OFF_DATA, FLOW_OFF_FLOW, FLOW_OFF_JOB, FLOW_OFF_VALUE } from '../wire/flow.js';
import { MOE_ACK, MOE_ACK_BYTES, MOE_DATA, MOE_OFF_ELEM_COUNT, MOE_OFF_FIRST_ROW, MOE_OFF_JOB, MOE_OFF_PHASE, MOE_OFF_ROWS, MOE_OFF_VALUE, MOE_PORT, moeDataFrameBytes, moeSourcePort } from '../wire/moe.js';
import { PING_REPLY, PING_REQUEST, PROTO_BENCH, PROTO_FLOW, PROTO_MOE, PROTO_PING, PROTO_RING, PROTO_SHARP, PROTO_SWITCHML } from '../wire/protocols.js';
import { RING_ACK, RING_DATA, RING_HEADER_BYTES, RING_OFF_CHUNK, RING_OFF_ITERATION, RING_OFF_KIND, RING_OFF_STEP } from '../wire/ring.js';
import {
  SML_FLAG_OVERFLOW, SML_FLAG_RETRANSMIT, SML_HEADER_BYTES, SML_OFF_COUNT, SML_OFF_DATA, SML_OFF_EXPONENT, SML_OFF_FLAGS, SML_OFF_KIND,
  SML_OFF_PACKET, SML_OFF_SLOT, SML_OFF_VER, SML_RESULT, SML_UPDATE,
} from '../wire/switchml.js';
import { ROUND_JOB, SINGLE_JOB, type FuzzWorld } from './world.js';

/**
 * The frames a fuzzing run sends, from one seeded stream: well-formed frames of every protocol
 * the emulator speaks (src/wire: ping, flows, ring, MoE, bench, CONGA's overlay, SwitchML and
 * SHARP aggregation, including whole aggregation rounds of every worker), the same frames
 * mutated (bit flips, boundary values in header fields, truncation, extension, a length made
 * consistent again so the damage reaches the headers behind the common one, splices), and
 * random bytes. The same seed gives the same frames in the same order.
 */
export type FrameClass = 'valid' | 'mutated' | 'random';
export const FRAME_CLASSES: readonly FrameClass[] = ['valid', 'mutated', 'random'];

export interface FuzzFrame {
  readonly frame: Uint8Array;
  readonly class: FrameClass;
  /** the protocol the frame was built as (before any mutation), or 'random' */
  readonly protocol: string;
  /** part of a whole aggregation round: deliver it where its sender's would arrive */
  readonly exact?: boolean;
}

const BOUNDARY_8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff];
const BOUNDARY_16 = [0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff];
const BOUNDARY_32 = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Header fields a mutation may set to a boundary value: offset and width in bytes. */
const FIELDS: ReadonlyArray<readonly [number, 1 | 2 | 4]> = [
  [OFF_VERSION, 1], [OFF_TYPE, 1], [OFF_TTL, 1], [OFF_ECN, 1], [OFF_FLAGS, 1], [OFF_PROTOCOL, 1], [OFF_CONGESTION, 1], [OFF_PATHTAG, 1],
  [OFF_SRC, 4], [OFF_DST, 4], [OFF_SRCPORT, 2], [OFF_DSTPORT, 2], [OFF_PAYLOADLEN, 2], [OFF_FEEDBACK, 2], [OFF_SEQ, 4],
  [SML_OFF_KIND, 1], [SML_OFF_FLAGS, 1], [SML_OFF_SLOT, 2], [SML_OFF_VER, 1], [SML_OFF_EXPONENT, 1], [SML_OFF_COUNT, 2], [SML_OFF_PACKET, 4],
];

export class FrameSource {
  private readonly queue: FuzzFrame[] = [];
  private packet = 0;
  /** per slot of the round job: the copy its next round uses (SwitchML alternates them) */
  private readonly nextVer: number[];

  constructor(
    private readonly world: FuzzWorld,
    private readonly rng: Rng,
  ) {
    this.nextVer = new Array<number>(world.slots).fill(0);
  }

  next(): FuzzFrame {
    const queued = this.queue.shift();
    if (queued) return queued;
    const r = this.rng.next();
    if (r < 0.3) return this.valid();
    if (r < 0.85) return this.mutated();
    return { frame: this.randomBytes(), class: 'random', protocol: 'random' };
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.rng.int(xs.length)]!;
  }

  /** An address the fabric knows (a host, a switch's loopback) or, now and then, any. */
  private address(): number {
    const r = this.rng.int(8);
    if (r < 5) return this.pick(this.world.hostAddresses);
    if (r < 7) return this.pick(this.world.switchAddresses);
    return this.rng.nextU32();
  }

  private frame(protocol: number, payload: number, type = 0, src = this.address(), dst = this.address()): Uint8Array {
    const b = new Uint8Array(HEADER_BYTES + payload);
    writeFrameHeader(b, { type, dst, srcPort: this.rng.int(0x10000), dstPort: this.rng.int(0x10000), seq: this.rng.nextU32(), ttl: 1 + this.rng.int(64) }, protocol, src, this.rng.int(1e9), payload);
    return b;
  }

  /**
   * A well-formed frame. Whole rounds go to their own job, single aggregation frames (and so
   * every mutation's starting point) to the other (see ROUND_JOB in world.ts).
   */
  private valid(rounds = true): FuzzFrame {
    const w = this.world;
    const kinds = ['ping', 'flow', 'ring', 'moe', 'bench', 'conga'];
    if (w.aggregationProtocol !== 0) kinds.push('aggregation', 'aggregation');
    if (w.aggregationProtocol !== 0 && rounds) kinds.push('round');
    const kind = this.pick(kinds);
    switch (kind) {
      case 'ping': {
        const f = this.frame(PROTO_PING, 56, this.rng.int(2) === 0 ? PING_REQUEST : PING_REPLY);
        writeU32(f, HEADER_BYTES, this.rng.int(8));
        writeU32(f, HEADER_BYTES + 4, this.rng.int(8));
        writeU32(f, HEADER_BYTES + 8, this.rng.int(4));
        return { frame: f, class: 'valid', protocol: 'ping' };
      }
      case 'flow': {
        const data = this.rng.int(2) === 0;
        const bytes = data ? this.rng.int(1400) : 0;
        const f = this.frame(PROTO_FLOW, FLOW_OFF_DATA - HEADER_BYTES + bytes, data ? FLOW_DATA : FLOW_ACK);
        writeU16(f, OFF_DSTPORT, FLOW_BASE_PORT + this.rng.int(4));
        writeU16(f, FLOW_OFF_JOB, this.rng.int(4));
        writeU32(f, FLOW_OFF_FLOW, this.rng.int(100));
        writeU32(f, FLOW_OFF_VALUE, this.rng.int(1 << 20));
        return { frame: f, class: 'valid', protocol: 'flow' };
      }
      case 'ring': {
        const data = this.rng.int(2) === 0;
        const f = this.frame(PROTO_RING, RING_HEADER_BYTES + (data ? 4 * this.rng.int(256) : 0));
        f[RING_OFF_KIND] = data ? RING_DATA : RING_ACK;
        writeU16(f, RING_OFF_ITERATION, this.rng.int(4));
        writeU16(f, RING_OFF_STEP, this.rng.int(16));
        writeU32(f, RING_OFF_CHUNK, this.rng.int(16));
        return { frame: f, class: 'valid', protocol: 'ring' };
      }
      case 'moe': {
        const data = this.rng.int(2) === 0;
        const rows = data ? this.rng.int(4) : 0;
        const elems = data ? 1 + this.rng.int(32) : 0;
        const f = this.frame(PROTO_MOE, (data ? moeDataFrameBytes(rows, elems) : MOE_ACK_BYTES) - HEADER_BYTES, data ? MOE_DATA : MOE_ACK);
        writeU16(f, OFF_SRCPORT, moeSourcePort(this.rng.int(4), this.rng.int(2)));
        writeU16(f, OFF_DSTPORT, MOE_PORT);
        f[MOE_OFF_PHASE] = this.rng.int(2);
        writeU16(f, MOE_OFF_JOB, this.rng.int(4));
        writeU32(f, MOE_OFF_VALUE, rows);
        writeU32(f, MOE_OFF_FIRST_ROW, 0);
        writeU16(f, MOE_OFF_ROWS, rows);
        writeU32(f, MOE_OFF_ELEM_COUNT, elems);
        return { frame: f, class: 'valid', protocol: 'moe' };
      }
      case 'bench':
        return { frame: this.frame(PROTO_BENCH, this.rng.int(1500)), class: 'valid', protocol: 'bench' };
      case 'conga': {
        const f = this.frame(this.pick([PROTO_FLOW, PROTO_BENCH, PROTO_MOE]), this.rng.int(200));
        f[OFF_FLAGS] = FLAG_CONGA;
        f[OFF_PATHTAG] = this.rng.int(8);
        f[OFF_CONGESTION] = this.rng.int(8);
        writeU16(f, OFF_FEEDBACK, this.rng.int(2) === 0 ? encodeFeedback(this.rng.int(8), this.rng.int(8)) : 0);
        return { frame: f, class: 'valid', protocol: 'conga' };
      }
      case 'aggregation':
        return { frame: this.aggregation(this.pick(w.aggregationEdges), SINGLE_JOB, this.rng.int(w.slots), this.rng.int(2), this.packet++), class: 'valid', protocol: 'aggregation' };
      default: {
        // a whole round: every legitimate sender contributes to one slot copy, in random order;
        // a slot's rounds alternate its two copies, as SwitchML's workers do (a contribution to
        // one copy clears the sender's bit in the other, readying it for the round after)
        const slot = this.rng.int(w.slots);
        const ver = this.nextVer[slot]!;
        this.nextVer[slot] = ver ^ 1;
        const packet = this.packet++;
        const edges = [...w.aggregationEdges];
        for (let i = edges.length - 1; i > 0; i--) {
          const j = this.rng.int(i + 1);
          [edges[i], edges[j]] = [edges[j]!, edges[i]!];
        }
        for (const e of edges) this.queue.push({ frame: this.aggregation(e, ROUND_JOB, slot, ver, packet, SML_UPDATE, w.elements), class: 'valid', protocol: 'aggregation', exact: true });
        return this.queue.shift()!;
      }
    }
  }

  /** A SwitchML / SHARP frame: UPDATE from a legitimate sender to its switch, or a RESULT down. */
  private aggregation(
    e: { src: number; dst: number }, job: number, slot: number, ver: number, packet: number,
    kind = this.rng.int(4) === 0 ? SML_RESULT : SML_UPDATE,
    count = this.rng.int(8) === 0 ? this.rng.int(this.world.elements * 2) : this.world.elements,
  ): Uint8Array {
    const w = this.world;
    const [src, dst] = kind === SML_RESULT ? [e.dst, e.src] : [e.src, e.dst];
    const f = this.frame(w.aggregationProtocol, SML_HEADER_BYTES + 4 * count, 0, src, dst);
    writeU16(f, OFF_DSTPORT, this.rng.int(16) === 0 && job === SINGLE_JOB ? this.rng.int(0x10000) : job);
    f[SML_OFF_KIND] = kind;
    f[SML_OFF_FLAGS] = this.pick([0, 0, 0, SML_FLAG_RETRANSMIT, SML_FLAG_OVERFLOW]);
    writeU16(f, SML_OFF_SLOT, slot);
    f[SML_OFF_VER] = ver;
    f[SML_OFF_EXPONENT] = this.rng.int(256);
    writeU16(f, SML_OFF_COUNT, count);
    writeU32(f, SML_OFF_PACKET, packet);
    for (let i = 0; i < count; i++) writeI32(f, SML_OFF_DATA + 4 * i, this.rng.nextU32() % 2001 - 1000);
    return f;
  }

  private mutated(): FuzzFrame {
    const base = this.valid(false);
    let f: Uint8Array = base.frame.slice();
    const rounds = 1 + this.rng.int(3);
    for (let k = 0; k < rounds; k++) f = this.mutate(f);
    return { frame: f, class: 'mutated', protocol: base.protocol };
  }

  private mutate(f: Uint8Array): Uint8Array {
    switch (this.rng.int(8)) {
      case 0: {
        // flip 1..8 bits
        const n = 1 + this.rng.int(8);
        for (let i = 0; i < n && f.length > 0; i++) f[this.rng.int(f.length)]! ^= 1 << this.rng.int(8);
        return f;
      }
      case 1: {
        // a header field at a boundary value (only if the frame reaches that far)
        const [off, width] = this.pick(FIELDS);
        if (off + width > f.length) return f;
        if (width === 1) f[off] = this.pick(BOUNDARY_8);
        else if (width === 2) writeU16(f, off, this.pick(BOUNDARY_16));
        else writeU32(f, off, this.pick(BOUNDARY_32));
        return f;
      }
      case 2:
        // truncated anywhere, the common header included
        return f.slice(0, this.rng.int(f.length + 1));
      case 3: {
        // extended with junk (the length field now disagrees)
        const out = new Uint8Array(f.length + 1 + this.rng.int(64));
        out.set(f);
        for (let i = f.length; i < out.length; i++) out[i] = this.rng.int(256);
        return out;
      }
      case 4: {
        // the length made consistent again, so the parser passes the damage on
        if (f.length >= HEADER_BYTES) writeU16(f, OFF_PAYLOADLEN, Math.min(0xffff, f.length - HEADER_BYTES));
        return f;
      }
      case 5: {
        // truncated and made consistent: headers behind the common one cut short
        const g = f.slice(0, Math.min(f.length, HEADER_BYTES + this.rng.int(Math.max(1, f.length - HEADER_BYTES + 1))));
        if (g.length >= HEADER_BYTES) writeU16(g, OFF_PAYLOADLEN, g.length - HEADER_BYTES);
        return g;
      }
      case 6: {
        // one header, another frame's body
        const other = this.valid(false).frame;
        const cut = Math.min(f.length, HEADER_BYTES);
        const out = new Uint8Array(cut + Math.max(0, other.length - HEADER_BYTES));
        out.set(f.subarray(0, cut));
        out.set(other.subarray(HEADER_BYTES), cut);
        return out;
      }
      default: {
        // time, sequence and TTL at their edges
        if (f.length >= HEADER_BYTES) {
          writeF64(f, OFF_TIMESTAMP, this.pick([0, -1, Number.NaN, Infinity, 2 ** 53, -0]));
          f[OFF_TTL] = this.pick([0, 1, 255]);
        }
        return f;
      }
    }
  }

  /** Random bytes; half the time with a valid version and a consistent length, so they get past the first checks. */
  private randomBytes(): Uint8Array {
    const big = this.rng.int(50) === 0;
    const len = big ? MAX_FRAME_BYTES - 16 + this.rng.int(64) : this.rng.int(HEADER_BYTES * 4);
    const f = new Uint8Array(len);
    for (let i = 0; i < len; i++) f[i] = this.rng.int(256);
    if (len >= HEADER_BYTES && this.rng.int(2) === 0) {
      f[OFF_VERSION] = WIRE_VERSION;
      writeU16(f, OFF_PAYLOADLEN, len - HEADER_BYTES);
      if (this.rng.int(2) === 0) f[OFF_PROTOCOL] = this.pick([PROTO_PING, PROTO_FLOW, PROTO_RING, PROTO_MOE, PROTO_SWITCHML, PROTO_SHARP, PROTO_BENCH]);
    }
    return f;
  }
}
