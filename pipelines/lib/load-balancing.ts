import type { PipelineEnv, ProgramBuilder } from '../../src/pipeline/program.js';
import type { Packet } from '../../src/pipeline/packet.js';
import type { GroupView } from '../../src/pipeline/table.js';
import type { Register } from '../../src/pipeline/externs/register.js';
import type { Counter } from '../../src/pipeline/externs/counter.js';
import type { Hash } from '../../src/pipeline/externs/hash.js';
import type { RandomExtern } from '../../src/pipeline/externs/random.js';
import { readU16, readU32, readU8, writeU16 } from '../../src/wire/bytes.js';
import { OFF_CONGESTION, OFF_DST, OFF_DSTPORT, OFF_FEEDBACK, OFF_FLAGS, OFF_PATHTAG, OFF_PROTOCOL, OFF_SRC, OFF_SRCPORT } from '../../src/wire/common-header.js';
import { CONGA_METRIC_MAX, FLAG_CONGA, encodeFeedback, feedbackMetric, feedbackTag, feedbackValid } from '../../src/wire/conga.js';

/**
 * The load-balancing stages a forwarding program can end with. Every scheme chooses among the
 * members of the ECMP group the routing controller installed for the packet's route (the
 * action-selector group of `ipv4_lpm`): those are the candidate ports, and nothing else is ever
 * chosen. ecmp hashes the 5-tuple (lib/forwarding.ts); the others are stateful and choose the
 * member themselves (the selector hash returns the index of their choice):
 *
 * - flowlet (LetFlow, Vanini et al., NSDI 2017): a flowlet table in registers keyed by a hash of
 *   the 5-tuple; a packet arriving more than `flowletGapUs` after the previous packet of its
 *   entry starts a new flowlet on a uniformly random member.
 * - drill (DRILL(d, m), Ghorbani et al., SIGCOMM 2017): per packet, the least loaded (egress
 *   queue bytes) of d random members and the m least loaded remembered from the last decision.
 * - conga (Alizadeh et al., SIGCOMM 2014): a discounting rate estimator per port, a congestion
 *   field max-updated at every hop, leaf-to-leaf feedback piggybacked on reverse traffic, and a
 *   flowlet-level choice of the uplink minimising max(local DRE, remote path metric).
 */
export const LOAD_BALANCING_KINDS = ['ecmp', 'flowlet', 'drill', 'conga'] as const;
export type LoadBalancingKind = (typeof LOAD_BALANCING_KINDS)[number];

/** The scheme named by a switch's options (`loadBalancing`, default ecmp). */
export function loadBalancingOf(options: Readonly<Record<string, unknown>>): LoadBalancingKind {
  const v = options.loadBalancing ?? 'ecmp';
  if (typeof v !== 'string' || !(LOAD_BALANCING_KINDS as readonly string[]).includes(v)) {
    throw new Error(`loadBalancing must be one of ${LOAD_BALANCING_KINDS.join(', ')}, got ${String(v)}`);
  }
  return v as LoadBalancingKind;
}

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

function indexOfPort<M>(g: GroupView<M>, port: number): number {
  const ms = g.members;
  for (let i = 0; i < ms.length; i++) if (ms[i]!.params[0] === port) return i;
  return -1;
}

/** crc over (src, dst, srcPort, dstPort, protocol) of the common header. */
export function fiveTupleHash(b: Uint8Array, tuple: Uint32Array, crc: { ofWords(w: ArrayLike<number>, n: number): number }): number {
  tuple[0] = readU32(b, OFF_SRC);
  tuple[1] = readU32(b, OFF_DST);
  tuple[2] = readU16(b, OFF_SRCPORT);
  tuple[3] = readU16(b, OFF_DSTPORT);
  tuple[4] = b[OFF_PROTOCOL]!;
  return crc.ofWords(tuple, 5);
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

// ---- options -----------------------------------------------------------------------------------

export const DEFAULT_FLOWLET_GAP_US = 100;
/** DRILL(d, m) when the options say nothing: the paper's DRILL(2, 1) */
export const DRILL_DEFAULTS = { d: 2, m: 1 } as const;

function flowletGapNs(o: Readonly<Record<string, unknown>>): number {
  const v = o.flowletGapUs ?? DEFAULT_FLOWLET_GAP_US;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`flowletGapUs must be a number > 0, got ${String(v)}`);
  return v * 1000;
}

export function drillOptions(o: Readonly<Record<string, unknown>>): { d: number; m: number } {
  const dm = (o.drill ?? {}) as { d?: unknown; m?: unknown };
  const d = dm.d ?? DRILL_DEFAULTS.d;
  const m = dm.m ?? DRILL_DEFAULTS.m;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) throw new Error(`drill.d must be an integer >= 1, got ${String(d)}`);
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 0) throw new Error(`drill.m must be an integer >= 0, got ${String(m)}`);
  return { d, m };
}

/** Which ports face hosts (env.ports, set by the target), as 0/1 per port. */
function hostPorts(env: PipelineEnv): Uint8Array {
  const out = new Uint8Array(env.portCount);
  env.ports?.forEach((p, i) => i < out.length && (out[i] = p.facesHost ? 1 : 0));
  return out;
}

/** Each port's line rate in Gbit/s (env.ports, set by the target); 0 = unshaped. */
function portRates(env: PipelineEnv): Float64Array {
  const out = new Float64Array(env.portCount);
  env.ports?.forEach((p, i) => i < out.length && (out[i] = p.rateGbps));
  return out;
}

// ---- flowlet table -----------------------------------------------------------------------------

/** entries of a flowlet table (a power of two; the index is the low bits of the 5-tuple crc) */
export const FLOWLET_ENTRIES = 1 << 16;

/**
 * A flowlet table in two registers: the time (ns, mod 2^32, as a 32-bit hardware timestamp) of
 * the last packet that hit each entry, and the port its flowlet is pinned to (+1; 0 = empty).
 * An entry changes port only when a packet finds it idle for more than the gap, so no flow
 * sharing the entry can move inside a shorter gap of its own.
 */
export class FlowletTable {
  readonly last: Register;
  readonly port: Register;
  /** the entry of the packet last looked up */
  index = 0;
  /** the port that entry was pinned to before (-1 none) */
  previousPort = -1;
  private readonly crc: Hash;
  private readonly tuple = new Uint32Array(5);

  constructor(p: ProgramBuilder<any>, prefix: string, readonly gapNs: number) {
    this.last = p.register(`${prefix}_last`, 32, FLOWLET_ENTRIES);
    this.port = p.register(`${prefix}_port`, 16, FLOWLET_ENTRIES);
    this.crc = p.hash('crc32', 0x51f);
  }

  /** The member the packet's flowlet is on, or -1 when the packet starts a new flowlet. */
  current<M>(pkt: Packet<M>, g: GroupView<M>): number {
    const i = fiveTupleHash(pkt.buf, this.tuple, this.crc) & (FLOWLET_ENTRIES - 1);
    this.index = i;
    const now = this.last.wrap(pkt.timestampNs);
    const last = this.last.read(i);
    this.last.write(i, now);
    const stored = this.port.read(i);
    this.previousPort = stored - 1;
    if (stored === 0) return -1;
    if (((now - last) >>> 0) > this.gapNs) return -1;
    // An entry shared with a flow of another route may hold a port outside this group.
    return indexOfPort(g, stored - 1);
  }

  pin(port: number): void {
    this.port.write(this.index, port + 1);
  }
}

// ---- flowlet (LetFlow) -------------------------------------------------------------------------

function flowletBalancer<M>(p: ProgramBuilder<M>, env: PipelineEnv, stats: Counter): LoadBalancer<M> {
  const table = new FlowletTable(p, 'flowlet', flowletGapNs(env.options));
  const random: RandomExtern = p.random('flowlet');
  return {
    kind: 'flowlet',
    choose(pkt, g) {
      stats.count(LB_STAT_CHOICES, 0);
      let i = table.current(pkt, g);
      if (i < 0) {
        i = random.read(0, g.members.length - 1);
        const port = memberPort(g, i);
        stats.count(LB_STAT_NEW_FLOWLETS, 0);
        if (table.previousPort >= 0 && table.previousPort !== port) stats.count(LB_STAT_MOVES, 0);
        table.pin(port);
      }
      return i;
    },
  };
}

// ---- DRILL(d, m) -------------------------------------------------------------------------------

/** groups with their own DRILL memory (by group id); a switch has a handful */
export const DRILL_MEMORY_GROUPS = 256;

function drillBalancer<M>(p: ProgramBuilder<M>, env: PipelineEnv, stats: Counter): LoadBalancer<M> {
  const { d, m } = drillOptions(env.options);
  const random = p.random('drill');
  // memory[group * m + j] = port + 1 of the j-th least loaded port last time (0 = empty)
  const memory = p.register('drill_memory', 16, DRILL_MEMORY_GROUPS * Math.max(1, m));
  const cand = new Int32Array(d + m);
  const candQ = new Float64Array(d + m);
  const used = new Uint8Array(d + m);
  return {
    kind: 'drill',
    choose(pkt, g) {
      stats.count(LB_STAT_CHOICES, 0);
      const n = g.members.length;
      const base = (g.groupId % DRILL_MEMORY_GROUPS) * m;
      let c = 0;
      // remembered ports first, so a tie keeps the packet where the last one went
      for (let j = 0; j < m; j++) {
        const stored = memory.read(base + j);
        if (stored === 0) continue;
        const idx = indexOfPort(g, stored - 1);
        if (idx < 0) continue;
        let dup = false;
        for (let k = 0; k < c; k++) if (cand[k] === idx) dup = true;
        if (dup) continue;
        cand[c] = idx;
        candQ[c++] = env.queueBytes(stored - 1);
      }
      for (let s = 0; s < d; s++) {
        const idx = random.read(0, n - 1);
        cand[c] = idx;
        candQ[c++] = env.queueBytes(memberPort(g, idx));
      }
      // the least loaded candidate (the first one on a tie: memory before samples)
      let bi = 0;
      for (let k = 1; k < c; k++) if (candQ[k]! < candQ[bi]!) bi = k;
      const chosen = cand[bi]!;
      // remember the m least loaded distinct ports seen, least loaded first
      used.fill(0);
      let w = 0;
      for (; w < m; w++) {
        let sel = -1;
        for (let k = 0; k < c; k++) if (used[k] === 0 && (sel < 0 || candQ[k]! < candQ[sel]!)) sel = k;
        if (sel < 0) break;
        for (let k = 0; k < c; k++) if (cand[k] === cand[sel]) used[k] = 1;
        memory.write(base + w, memberPort(g, cand[sel]!) + 1);
      }
      for (; w < m; w++) memory.write(base + w, 0);
      return chosen;
    },
  };
}

// ---- CONGA -------------------------------------------------------------------------------------

/** DRE: every T_DRE the estimate X decays by a factor (1 - ALPHA); tau = T_DRE / ALPHA = 160 µs */
export const CONGA_T_DRE_NS = 20_000;
export const CONGA_ALPHA = 1 / 8;
export const CONGA_TAU_NS = CONGA_T_DRE_NS / CONGA_ALPHA;
/** a remote metric not refreshed for this long counts as 0 (feedback stopped: path presumed idle) */
export const CONGA_AGE_NS = 10 * CONGA_TAU_NS;
/** rate assumed for an unshaped port (rateGbps 0), to quantize its DRE */
export const CONGA_NOMINAL_GBPS = 10;
/** leaves are told apart by the third octet of the address (10.0.<leaf>.x on leaf-spine) */
export const CONGA_LEAVES = 256;
/** port tags per remote leaf remembered for feedback */
export const CONGA_TAGS_PER_LEAF = 16;

const DECAY = Array.from({ length: 64 }, (_, k) => (1 - CONGA_ALPHA) ** k);
const KNOWN = 0x80;
const CHANGED = 0x40;

export const congaLeafOf = (addr: number): number => (addr >>> 8) & (CONGA_LEAVES - 1);

function congaBalancer<M>(p: ProgramBuilder<M>, env: PipelineEnv, stats: Counter): LoadBalancer<M> {
  const ports = env.portCount;
  const isHost = hostPorts(env);
  const rates = portRates(env);
  const cTau = new Float64Array(ports);
  for (let i = 0; i < ports; i++) cTau[i] = ((rates[i]! > 0 ? rates[i]! : CONGA_NOMINAL_GBPS) / 8) * CONGA_TAU_NS;

  const flowlets = new FlowletTable(p, 'conga_flowlet', flowletGapNs(env.options));
  const random = p.random('conga');
  const dreBytes = p.register('conga_dre_bytes', 32, ports);
  const dreEpoch = p.register('conga_dre_epoch', 32, ports);
  // Congestion-To-Leaf: what remote leaves told us of our paths to them, by (leaf, our uplink)
  const toMetric = p.register('conga_to_leaf_metric', 8, CONGA_LEAVES * 256);
  const toTime = p.register('conga_to_leaf_time', 32, CONGA_LEAVES * 256);
  // Congestion-From-Leaf: what arrived from remote leaves, by (leaf, their uplink), to feed back
  const fromMetric = p.register('conga_from_leaf_metric', 8, CONGA_LEAVES * 256);
  const fromTags = p.register('conga_from_leaf_tags', 16, CONGA_LEAVES * CONGA_TAGS_PER_LEAF);
  const fromCount = p.register('conga_from_leaf_count', 8, CONGA_LEAVES);
  const fromNext = p.register('conga_from_leaf_next', 8, CONGA_LEAVES);

  /** decays port's estimate to now, adds bytes, returns the quantized metric */
  const dre = (port: number, bytes: number, nowNs: number): number => {
    const epoch = dreEpoch.wrap(Math.floor(nowNs / CONGA_T_DRE_NS));
    const k = (epoch - dreEpoch.read(port)) >>> 0;
    let x = dreBytes.read(port);
    if (k > 0) {
      x = k >= DECAY.length ? 0 : Math.floor(x * DECAY[k]!);
      dreEpoch.write(port, epoch);
    }
    x += bytes;
    if (bytes > 0 || k > 0) dreBytes.write(port, x);
    const q = Math.floor((x * (CONGA_METRIC_MAX + 1)) / cTau[port]!);
    return q > CONGA_METRIC_MAX ? CONGA_METRIC_MAX : q;
  };

  const remote = (leaf: number, port: number, nowNs: number): number => {
    const i = leaf * 256 + (port & 0xff);
    const v = toMetric.read(i);
    if ((v & KNOWN) === 0) return 0;
    const nowUs = toTime.wrap(Math.floor(nowNs / 1000));
    if (((nowUs - toTime.read(i)) >>> 0) * 1000 > CONGA_AGE_NS) return 0;
    return v & CONGA_METRIC_MAX;
  };

  /** the least congested member; ties go to the flowlet's previous port, else at random */
  const best = (g: GroupView<M>, dstLeaf: number, previousPort: number, nowNs: number): number => {
    let bestIdx = 0;
    let bestMetric = Infinity;
    let ties = 0;
    let keepPrevious = false;
    for (let k = 0; k < g.members.length; k++) {
      const port = memberPort(g, k);
      const local = dre(port, 0, nowNs);
      const far = dstLeaf >= 0 ? remote(dstLeaf, port, nowNs) : 0;
      const metric = local > far ? local : far;
      if (metric < bestMetric) {
        bestMetric = metric;
        bestIdx = k;
        ties = 1;
        keepPrevious = port === previousPort;
      } else if (metric === bestMetric && !keepPrevious) {
        if (port === previousPort) {
          bestIdx = k;
          keepPrevious = true;
        } else if (random.read(0, ties++) === 0) bestIdx = k;
      }
    }
    return bestIdx;
  };

  const recordFrom = (leaf: number, tag: number, ce: number): void => {
    const i = leaf * 256 + tag;
    const old = fromMetric.read(i);
    if ((old & KNOWN) === 0) {
      const n = fromCount.read(leaf);
      if (n >= CONGA_TAGS_PER_LEAF) return;
      fromTags.write(leaf * CONGA_TAGS_PER_LEAF + n, tag);
      fromCount.write(leaf, n + 1);
    }
    const changed = (old & KNOWN) === 0 || (old & CONGA_METRIC_MAX) !== ce || (old & CHANGED) !== 0;
    fromMetric.write(i, KNOWN | (changed ? CHANGED : 0) | ce);
  };

  /** one From-Leaf metric for `leaf`, round robin, preferring one that changed since it was last sent */
  const feedbackFor = (leaf: number): number => {
    const n = fromCount.read(leaf);
    if (n === 0) return 0;
    const start = fromNext.read(leaf) % n;
    let pick = start;
    for (let j = 0; j < n; j++) {
      const k = (start + j) % n;
      if ((fromMetric.read(leaf * 256 + fromTags.read(leaf * CONGA_TAGS_PER_LEAF + k)) & CHANGED) !== 0) {
        pick = k;
        break;
      }
    }
    const tag = fromTags.read(leaf * CONGA_TAGS_PER_LEAF + pick);
    const i = leaf * 256 + tag;
    const v = fromMetric.read(i);
    fromMetric.write(i, v & ~CHANGED);
    fromNext.write(leaf, (pick + 1) % n);
    return encodeFeedback(tag, v & CONGA_METRIC_MAX);
  };

  return {
    kind: 'conga',
    choose(pkt, g) {
      stats.count(LB_STAT_CHOICES, 0);
      let i = flowlets.current(pkt, g);
      if (i < 0) {
        // At the source leaf (the packet came from a host) the remote metrics of the path to
        // the destination leaf count; elsewhere only the local estimates do.
        const source = isHost[pkt.ingressPort] === 1;
        const dstLeaf = source ? congaLeafOf(readU32(pkt.buf, OFF_DST)) : -1;
        i = best(g, dstLeaf, flowlets.previousPort, pkt.timestampNs);
        const port = memberPort(g, i);
        stats.count(LB_STAT_NEW_FLOWLETS, 0);
        if (flowlets.previousPort >= 0 && flowlets.previousPort !== port) stats.count(LB_STAT_MOVES, 0);
        flowlets.pin(port);
      }
      return i;
    },
    onForward(pkt, port) {
      const b = pkt.buf;
      const now = pkt.timestampNs;
      const q = dre(port, b.length, now);
      const fromHost = isHost[pkt.ingressPort] === 1;
      const toHost = isHost[port] === 1;
      if (fromHost && !toHost) {
        // source leaf: open the overlay, piggyback one metric for the destination leaf
        b[OFF_FLAGS] = readU8(b, OFF_FLAGS) | FLAG_CONGA;
        b[OFF_PATHTAG] = port;
        b[OFF_CONGESTION] = 0;
        writeU16(b, OFF_FEEDBACK, feedbackFor(congaLeafOf(readU32(b, OFF_DST))));
      }
      if ((b[OFF_FLAGS]! & FLAG_CONGA) === 0) return;
      if (!toHost) {
        if (q > b[OFF_CONGESTION]!) b[OFF_CONGESTION] = q;
        return;
      }
      // destination leaf: learn the path metric and the feedback, strip the overlay
      const srcLeaf = congaLeafOf(readU32(b, OFF_SRC));
      recordFrom(srcLeaf, b[OFF_PATHTAG]!, b[OFF_CONGESTION]! & CONGA_METRIC_MAX);
      const fb = readU16(b, OFF_FEEDBACK);
      if (feedbackValid(fb)) {
        const i = srcLeaf * 256 + feedbackTag(fb);
        toMetric.write(i, KNOWN | feedbackMetric(fb));
        toTime.write(i, Math.floor(now / 1000));
      }
      b[OFF_FLAGS] = b[OFF_FLAGS]! & ~FLAG_CONGA;
      b[OFF_PATHTAG] = 0;
      b[OFF_CONGESTION] = 0;
      writeU16(b, OFF_FEEDBACK, 0);
    },
  };
}

/** The stateful balancer of a scheme; null for ecmp (a plain hash selector). */
export function createLoadBalancer<M>(p: ProgramBuilder<M>, kind: LoadBalancingKind): LoadBalancer<M> | null {
  if (kind === 'ecmp') return null;
  const env = p.env;
  const stats = p.counter(LB_STATS_COUNTER, 3, 'packets');
  switch (kind) {
    case 'flowlet':
      return flowletBalancer(p, env, stats);
    case 'drill':
      return drillBalancer(p, env, stats);
    case 'conga':
      return congaBalancer(p, env, stats);
  }
}
