import type { Packet } from '../../../src/pipeline/packet.js';
import type { GroupView } from '../../../src/pipeline/table.js';
import type { HeaderRef } from '../../../src/pipeline/header.js';
import { readU16, readU32 } from '../../../src/wire/bytes.js';

/** What every load-balancing scheme shares: its interface to the route table, its counter, the 5-tuple. */
/** A stateful member choice, plugged into the route table (see lib/forwarding.ts). */
export interface LoadBalancer<M> {
  /** the scheme's name (one of LOAD_BALANCING_KINDS, or a scheme of its own) */
  readonly kind: string;
  /** the index into group.members this packet takes; always in 0..members.length-1 */
  choose(pkt: Packet<M>, group: GroupView<M>): number;
  /** after the route's forward action sent the packet to `port` (every routed packet) */
  onForward?(pkt: Packet<M>, port: number): void;
}

/** lb_stats counter indexes: what the stateful schemes did, for tests and curious users */
export const LB_STAT_CHOICES = 0;
export const LB_STAT_NEW_FLOWLETS = 1;
export const LB_STAT_MOVES = 2;
export const LB_STATS_COUNTER = 'lb_stats';

/** The port a member forwards to: the forward action's only parameter. */
export function memberPort<M>(g: GroupView<M>, i: number): number {
  return g.members[i]!.params[0]!;
}

export function indexOfPort<M>(g: GroupView<M>, port: number): number {
  const ms = g.members;
  for (let i = 0; i < ms.length; i++) if (ms[i]!.params[0] === port) return i;
  return -1;
}

/**
 * A crc over (src, dst, srcPort, dstPort, protocol) of the program's common header. The field
 * offsets come from the header's declaration, taken once; per packet the header instance's
 * place comes from the parser (pkt.offsetOf), so this runs on every packet at the cost of five
 * plain reads (the pipeline bench's ecmp case).
 */
export class FiveTuple {
  private readonly words = new Uint32Array(5);
  private readonly src: number;
  private readonly dst: number;
  private readonly srcPort: number;
  private readonly dstPort: number;
  private readonly protocol: number;

  constructor(
    private readonly common: HeaderRef,
    private readonly crc: { ofWords(w: ArrayLike<number>, n: number): number },
  ) {
    const t = common.type;
    const widths = ['src', 'dst', 'srcPort', 'dstPort', 'protocol'].map((n) => t.field(n).bytes).join(',');
    if (widths !== '4,4,2,2,1') throw new Error(`five-tuple hash: header ${t.name} has field widths ${widths}, expected 4,4,2,2,1`);
    this.src = t.field('src').offset;
    this.dst = t.field('dst').offset;
    this.srcPort = t.field('srcPort').offset;
    this.dstPort = t.field('dstPort').offset;
    this.protocol = t.field('protocol').offset;
  }

  hash<M>(pkt: Packet<M>): number {
    const w = this.words;
    const b = pkt.buf;
    const o = pkt.offsetOf(this.common);
    w[0] = readU32(b, o + this.src);
    w[1] = readU32(b, o + this.dst);
    w[2] = readU16(b, o + this.srcPort);
    w[3] = readU16(b, o + this.dstPort);
    w[4] = b[o + this.protocol]!;
    return this.crc.ofWords(w, 5);
  }
}

/**
 * murmur3's 32-bit finalizer: a bijection whose every output bit depends on every input bit.
 * The hash externs are CRCs, and a CRC seeded through its initial register is affine in the
 * seed (crc_s(x) = crc_0(x) XOR c_s for inputs of one length): two switches with different
 * seeds would split a set of flows over a power-of-two group identically (hash polarization).
 * Mixing after the CRC makes the switches' choices independent.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
