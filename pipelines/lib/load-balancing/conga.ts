import type { PipelineEnv, ProgramBuilder } from '../../../src/pipeline/program.js';
import type { GroupView } from '../../../src/pipeline/table.js';
import type { Counter } from '../../../src/pipeline/externs/counter.js';
import { commonHeaderOf } from '../../../src/pipeline/common-header.js';
import { fieldsOf } from '../../../src/pipeline/header.js';
import { CONGA_METRIC_MAX, FLAG_CONGA, encodeFeedback, feedbackMetric, feedbackTag, feedbackValid } from '../../../src/wire/conga.js';
import { FlowletTable, flowletGapNs } from './flowlet-table.js';
import { LB_STAT_CHOICES, LB_STAT_MOVES, LB_STAT_NEW_FLOWLETS, memberPort, type LoadBalancer } from './scheme.js';

/**
 * conga (Alizadeh et al., SIGCOMM 2014): a discounting rate estimator per port, a congestion
 * field max-updated at every hop, leaf-to-leaf feedback piggybacked on reverse traffic, and a
 * flowlet-level choice of the uplink minimising max(local DRE, remote path metric). The
 * overlay fields are the common header's (src/wire/conga.ts).
 */
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

export function congaBalancer<M>(p: ProgramBuilder<M>, env: PipelineEnv, stats: Counter): LoadBalancer<M> {
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

  // the overlay lives in the common header's reserved fields (src/wire/conga.ts)
  const h = commonHeaderOf(p);
  const F = fieldsOf(h, ['src', 'dst', 'flags', 'pathTag', 'congestion', 'feedback'] as const);

  return {
    kind: 'conga',
    choose(pkt, g) {
      stats.count(LB_STAT_CHOICES, 0);
      let i = flowlets.current(pkt, g);
      if (i < 0) {
        // At the source leaf (the packet came from a host) the remote metrics of the path to
        // the destination leaf count; elsewhere only the local estimates do.
        const source = isHost[pkt.ingressPort] === 1;
        const dstLeaf = source ? congaLeafOf(pkt.get(h, F.dst)) : -1;
        i = best(g, dstLeaf, flowlets.previousPort, pkt.timestampNs);
        const port = memberPort(g, i);
        stats.count(LB_STAT_NEW_FLOWLETS, 0);
        if (flowlets.previousPort >= 0 && flowlets.previousPort !== port) stats.count(LB_STAT_MOVES, 0);
        flowlets.pin(port);
      }
      return i;
    },
    onForward(pkt, port) {
      const now = pkt.timestampNs;
      const q = dre(port, pkt.buf.length, now);
      const fromHost = isHost[pkt.ingressPort] === 1;
      const toHost = isHost[port] === 1;
      if (fromHost && !toHost) {
        // source leaf: open the overlay, piggyback one metric for the destination leaf
        pkt.set(h, F.flags, pkt.get(h, F.flags) | FLAG_CONGA);
        pkt.set(h, F.pathTag, port);
        pkt.set(h, F.congestion, 0);
        pkt.set(h, F.feedback, feedbackFor(congaLeafOf(pkt.get(h, F.dst))));
      }
      if ((pkt.get(h, F.flags) & FLAG_CONGA) === 0) return;
      if (!toHost) {
        if (q > pkt.get(h, F.congestion)) pkt.set(h, F.congestion, q);
        return;
      }
      // destination leaf: learn the path metric and the feedback, strip the overlay
      const srcLeaf = congaLeafOf(pkt.get(h, F.src));
      recordFrom(srcLeaf, pkt.get(h, F.pathTag), pkt.get(h, F.congestion) & CONGA_METRIC_MAX);
      const fb = pkt.get(h, F.feedback);
      if (feedbackValid(fb)) {
        const i = srcLeaf * 256 + feedbackTag(fb);
        toMetric.write(i, KNOWN | feedbackMetric(fb));
        toTime.write(i, Math.floor(now / 1000));
      }
      pkt.set(h, F.flags, pkt.get(h, F.flags) & ~FLAG_CONGA);
      pkt.set(h, F.pathTag, 0);
      pkt.set(h, F.congestion, 0);
      pkt.set(h, F.feedback, 0);
    },
  };
}
