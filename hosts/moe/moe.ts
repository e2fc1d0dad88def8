import type { WorkloadContext, WorkloadModule } from '../../src/run/workload.js';
import type { Rng } from '../../src/net/rng.js';
import type { GenericResult } from '../../src/report/types.js';
import { round } from '../../src/report/types.js';
import { Deferred } from '../../src/run/deferred.js';
import { MOE_COMBINE, MOE_DEFAULTS, MOE_DISPATCH, MOE_ELEMS_PER_FRAME, streamGeometry } from '../../src/wire/moe.js';
import {
  accumulateRouterStats, applyCapacity, applyExpert, auxLoss, combineToken, expertCapacity, expertScale, expertShift,
  newRouterStats, placeExperts, popularityRanks, routerLogits, topKRoute, zipfLogBias, zLoss,
  type CapacityResult, type DropPolicy, type Placement, type Routing, type RouterStats,
} from './moe-router.js';
import { MoeEndpoint, exchangePolicy, phaseName, type ExchangeEvents, type OutStream } from './moe-exchange.js';

/**
 * The `moe` workload: one Mixture-of-Experts layer's token exchange with expert parallelism,
 * through the emulated fabric, every token's output checked.
 *
 * 1. Each rank holds tokensPerRank tokens of `hidden` float32 elements (from the seed); its
 *    router (hosts/moe/moe-router.ts) picks each token's topK experts with gate probabilities, with
 *    a Zipf skew over experts; each (expert, source rank) keeps at most Megatron-Core's capacity
 *    ceil(T·k·CF / E), T = tokensPerRank (per source rank), dropping by policy; dropless when
 *    capacityFactor is null.
 * 2. Dispatch: each rank permutes its kept assignments by destination rank (then expert, then
 *    token, as Megatron's dispatcher sorts by local expert) and streams them to the rank that
 *    holds the expert (experts placed contiguously); assignments to its own experts stay local.
 * 3. Each expert rank applies the expert as rows arrive (y = a_e·x + b_e in float32).
 * 4. Combine: once every rank holds all it was sent (the all-to-all is a collective), each
 *    expert rank streams the outputs back in the order they came; the source un-permutes them
 *    into (token, choice) slots and computes x + Σ_kept gate·y in choice order.
 * 5. Every output is compared bit for bit with a reference computed locally from the same
 *    routing with the same float32 operations in the same order; a dropped choice contributes
 *    nothing (the residual rule).
 */

export interface MoeSpec {
  tokensPerRank: number;
  hidden: number;
  experts: number;
  topK: number;
  /** null = dropless */
  capacityFactor: number | null;
  dropPolicy: DropPolicy;
  /** Zipf exponent over experts, 0 = uniform */
  skew: number;
  loadBalancing?: readonly string[];
  name?: string;
}

/** Everything the routing decides, computed up front from the seed (the same on every fabric). */
export interface MoePlan {
  readonly ranks: number;
  readonly spec: MoeSpec;
  readonly capacity: number | null;
  readonly placement: Placement;
  /** popularity place of each expert (0 = hottest under skew) */
  readonly popularity: Int32Array;
  /** per rank: tokens [T × hidden] */
  readonly x: Float32Array[];
  /** per rank: router logits [T × E] */
  readonly logits: Float64Array[];
  readonly routing: Routing[];
  readonly capacityResult: CapacityResult[];
  /** dispatch[i][j]: the rows rank i sends rank j (i === j: the ones it computes itself) */
  readonly dispatch: OutStream[][];
  readonly stats: RouterStats;
}

/** Fills defaults and rejects what the wire format cannot carry. */
export function normalizeSpec(spec: Partial<MoeSpec>): MoeSpec {
  const s: MoeSpec = { ...MOE_DEFAULTS, ...spec, capacityFactor: spec.capacityFactor ?? null };
  const intIn = (k: keyof MoeSpec, lo: number, hi: number): void => {
    const v = s[k] as number;
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new RangeError(`moe: ${k} must be an integer in ${lo}..${hi}, got ${String(v)}`);
  };
  intIn('experts', 1, 0xffff);
  intIn('topK', 1, Math.min(255, s.experts));
  intIn('hidden', 1, 1 << 24);
  intIn('tokensPerRank', 1, Math.floor(0x7fffffff / s.topK));
  if (s.capacityFactor !== null && !(s.capacityFactor > 0 && Number.isFinite(s.capacityFactor))) throw new RangeError(`moe: capacityFactor must be > 0 or null, got ${s.capacityFactor}`);
  if (!(s.skew >= 0 && Number.isFinite(s.skew))) throw new RangeError(`moe: skew must be a number >= 0, got ${s.skew}`);
  if (s.dropPolicy !== 'probs' && s.dropPolicy !== 'position') throw new RangeError(`moe: dropPolicy must be probs or position, got ${String(s.dropPolicy)}`);
  return s;
}

/** A rank's tokens: uniform in [-4, 4), float32. */
export function makeTokens(tokens: number, hidden: number, rng: Rng): Float32Array {
  const x = new Float32Array(tokens * hidden);
  for (let i = 0; i < x.length; i++) x[i] = (rng.next() * 2 - 1) * 4;
  return x;
}

/** Routes every rank's tokens and cuts the dispatch streams. Pure: same spec and rng, same plan. */
export function planMoe(specIn: Partial<MoeSpec>, ranks: number, rng: Rng): MoePlan {
  const spec = normalizeSpec(specIn);
  const { tokensPerRank: T, hidden: H, experts: E, topK: k } = spec;
  const placement = placeExperts(E, ranks);
  const popularity = popularityRanks(E, rng.fork('popularity'));
  const bias = zipfLogBias(spec.skew, popularity);
  const capacity = expertCapacity(T, k, E, spec.capacityFactor);
  const stats = newRouterStats(E, k);
  const x: Float32Array[] = [];
  const logits: Float64Array[] = [];
  const routing: Routing[] = [];
  const capacityResult: CapacityResult[] = [];
  const dispatch: OutStream[][] = [];
  for (let r = 0; r < ranks; r++) {
    x.push(makeTokens(T, H, rng.fork(`tokens:${r}`)));
    const l = routerLogits(T, bias, rng.fork(`logits:${r}`));
    const route = topKRoute(l, T, E, k);
    const cap = applyCapacity(route, capacity, spec.dropPolicy);
    accumulateRouterStats(stats, l, route);
    logits.push(l);
    routing.push(route);
    capacityResult.push(cap);
    dispatch.push(permute(x[r]!, route, cap, placement, ranks, H));
  }
  return { ranks, spec, capacity, placement, popularity, x, logits, routing, capacityResult, dispatch, stats };
}

/**
 * Permutation by destination: a rank's kept assignments sorted by expert (so by destination
 * rank, experts being contiguous), then by token; each destination's run becomes its stream,
 * with the tokens' elements gathered row by row.
 */
function permute(x: Float32Array, r: Routing, cap: CapacityResult, p: Placement, ranks: number, hidden: number): OutStream[] {
  const { experts: E, topK: k } = r;
  const start = new Int32Array(E + 1);
  for (let i = 0; i < r.expert.length; i++) if (cap.kept[i] === 1) start[r.expert[i]! + 1]!++;
  for (let e = 0; e < E; e++) start[e + 1] = start[e + 1]! + start[e]!;
  const pos = start.slice(0, E);
  const order = new Int32Array(start[E]!);
  for (let i = 0; i < r.expert.length; i++) if (cap.kept[i] === 1) order[pos[r.expert[i]!]!++] = i;
  const out: OutStream[] = [];
  for (let j = 0; j < ranks; j++) {
    const from = start[p.first[j]!]!;
    const rows = start[p.first[j + 1]!]! - from;
    const token = new Int32Array(rows);
    const expert = new Int32Array(rows);
    const choice = new Int32Array(rows);
    const data = new Float32Array(rows * hidden);
    for (let n = 0; n < rows; n++) {
      const i = order[from + n]!;
      const t = (i - (i % k)) / k;
      token[n] = t;
      choice[n] = i % k;
      expert[n] = r.expert[i]!;
      data.set(x.subarray(t * hidden, (t + 1) * hidden), n * hidden);
    }
    out.push({ rows, token, expert, choice, data });
  }
  return out;
}

/** The outputs a rank should end with, computed locally (no network): the reference. */
export function referenceOutputs(plan: MoePlan, rank: number): Float32Array {
  const { tokensPerRank: T, hidden: H, topK: k } = plan.spec;
  const x = plan.x[rank]!;
  const r = plan.routing[rank]!;
  const kept = plan.capacityResult[rank]!.kept;
  const out = new Float32Array(T * H);
  const y = new Float32Array(k * H);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < k; c++) if (kept[t * k + c] === 1) applyExpert(r.expert[t * k + c]!, x, t * H, y, c * H, H);
    combineToken(x, t * H, H, k, kept, r.gate, t * k, y, 0, out, t * H);
  }
  return out;
}

// ---- the run ---------------------------------------------------------------------------------------

export interface MoeResult extends GenericResult {
  workload: 'moe';
  loadBalancing: string;
  ranks: number;
  experts: number;
  topK: number;
  tokensPerRank: number;
  hidden: number;
  /** per (expert, source rank); 0 when dropless */
  capacity: number;
  capacityFactor: number | null;
  dropless: boolean;
  dropPolicy: DropPolicy;
  skew: number;
  placement: 'contiguous';
  expertsPerRank: number[];
  /** tokens each expert processed (after dropping), summed over source ranks */
  expertLoad: number[];
  /** tokens routed to each expert before dropping */
  expertDemand: number[];
  /** tokens each rank's experts processed */
  rankLoad: number[];
  /** dropped (token, expert) assignments: Σ over (expert, source) of max(0, demand − capacity) */
  droppedTokens: number;
  /** tokens all of whose choices were dropped (their output is the residual alone) */
  tokensWithoutExpert: number;
  /** max over ranks of rankLoad / its mean */
  overloadFactor: number;
  auxLoss: number;
  zLoss: number;
  timeSec: number;
  dispatchSec: number;
  combineSec: number;
  /** bytes rank i put on its link toward rank j: every PROTO_MOE frame (DATA and ACK, headers, retransmissions); diagonal 0 */
  trafficMatrixBytes: number[][];
  /** (token, expert) assignments rank i dispatched to rank j (diagonal: computed locally) */
  tokenMatrix: number[][];
  retransmissions: number;
  duplicates: number;
  malformedFrames: number;
  corruptRows: number;
  doubleApplied: number;
  /** pieces of rows applied vs expected, both phases, every rank */
  appliedPieces: number;
  expectedPieces: number;
  wrongTokens: number;
  /** bytes per tier during the run, both directions summed */
  tierBytes: Record<string, number>;
  /** bytes per link and direction during the run */
  linkBytes: Array<{ a: string; b: string; ab: number; ba: number }>;
  /** max over switch-to-switch link directions of bytes / the mean over them (1 = even) */
  fabricLinkImbalance: number;
  queueDrops: number;
  lostFrames: number;
  correct: boolean;
}

export interface MoeRun {
  result: MoeResult;
  plan: MoePlan;
  /** per rank: the outputs that came back through the fabric */
  outputs: Float32Array[];
}

/** The smallest egress queue toward any participating host: what the stream windows must fit. */
function receiverQueueBytes(ctx: WorkloadContext): number {
  let q = Infinity;
  const names = new Set(ctx.hosts.map((h) => h.name));
  for (const l of ctx.fabric.links) if (names.has(l.spec.a) || names.has(l.spec.b)) q = Math.min(q, l.config.queueBytes);
  return q === Infinity ? 1 << 20 : q;
}

/** What one process's ranks made of the run, gathered from every process to make the one result. */
interface MoeTally {
  /** the ranks of this process, and their rows of the traffic matrix */
  ranks: number[];
  bytesTo: number[][];
  /** this process's part of each phase, from its own release of the step before */
  dispatchNs: number;
  combineNs: number;
  totalNs: number;
  retransmissions: number;
  duplicates: number;
  malformedFrames: number;
  corruptRows: number;
  doubleApplied: number;
  appliedPieces: number;
  wrongTokens: number;
}

/** The outputs of a rank that lives in another process: never written here. */
const NONE = new Float32Array(0);

/**
 * Runs the layer's exchange. In a multi-process run (`ina up`) this runs in every process:
 * the plan and the references are computed in each copy alike, endpoints exist only for the
 * ranks of this process, and the copies meet between the phases and at the end.
 */
export async function runMoe(ctx: WorkloadContext, specIn: Partial<MoeSpec>): Promise<MoeRun> {
  const spec = normalizeSpec(specIn);
  const R = ctx.hosts.length;
  if (R < 1) throw new Error('moe needs at least 1 rank');
  if (new Set(ctx.hosts.map((h) => h.name)).size !== R) throw new Error(`moe: a host appears twice among the ranks (${ctx.hosts.map((h) => h.name).join(', ')})`);
  const { tokensPerRank: T, hidden: H, topK: k, experts: E } = spec;
  // job ids come from the leader, so every process's copy of concurrent workloads agrees on them
  const jobPromise = ctx.cluster.atLeader('moe: job id', () => ctx.fabric.jobIds.next('moe'));
  const plan = planMoe(spec, R, ctx.rng.fork('moe'));
  const owner = plan.placement.owner;
  const pieces = streamGeometry(1, H).piecesPerRow;
  const pieceOf = (elemOffset: number): number => (pieces === 1 ? 0 : elemOffset / MOE_ELEMS_PER_FRAME);
  // this process's ranks: every rank in one process, one per host node in `ina up`
  const here = ctx.hosts.flatMap((h, r) => (ctx.cluster.isLocal(h.name) ? [r] : []));
  const isHere = new Uint8Array(R);
  for (const r of here) isHere[r] = 1;

  // Per local rank: expert outputs for its own (token, choice) slots, and what was applied where.
  const yBack = plan.x.map((_, r) => (isHere[r] ? new Float32Array(T * k * H) : NONE));
  const appliedBack = plan.x.map((_, r) => (isHere[r] ? new Uint8Array(T * k * pieces) : new Uint8Array(0)));
  // Per local expert rank j, per source i: the rows received, their expert outputs, pieces applied.
  interface Inbound { rows: number; token: Int32Array; expert: Int32Array; choice: Int32Array; data: Float32Array; applied: Uint8Array }
  const inbound: Array<Array<Inbound | null>> = plan.x.map(() => new Array<Inbound | null>(R).fill(null));
  let corruptRows = 0;
  let doubleApplied = 0;
  let appliedPieces = 0;
  let expectedPieces = 0;
  for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) if (i !== j) expectedPieces += 2 * plan.dispatch[i]![j]!.rows * pieces;

  // Local assignments never touch the network: the source computes them itself.
  for (const i of here) {
    const s = plan.dispatch[i]![i]!;
    for (let n = 0; n < s.rows; n++) applyExpert(s.expert[n]!, s.data, n * H, yBack[i]!, (s.token[n]! * k + s.choice[n]!) * H, H);
  }

  // This process's part of a phase is over when every stream its ranks receive is complete and
  // every stream they send to a rank in another process is acknowledged (a stream to a rank in
  // this process is complete when that rank holds it). In one process: every stream received.
  const recvStreams = here.length * (R - 1);
  const remoteSends = here.length * (R - here.length);
  const phaseDone = [new Deferred<number>(`moe dispatch (${R} ranks)`), new Deferred<number>(`moe combine (${R} ranks)`)];
  const received = [0, 0];
  const acked = [0, 0];
  const checkPhase = (phase: number): void => {
    if (received[phase] === recvStreams && acked[phase] === remoteSends) phaseDone[phase]!.resolve(ctx.clock.now());
  };
  const policy = exchangePolicy(ctx.clock, R, H, receiverQueueBytes(ctx));
  const addresses = ctx.hosts.map((h) => h.address);
  const names = ctx.hosts.map((h) => h.name);

  const eventsFor = (j: number): ExchangeEvents => ({
    open(phase, peer, rows) {
      if (phase === MOE_DISPATCH) {
        if (rows > T * k) return false;
        inbound[j]![peer] = {
          rows, token: new Int32Array(rows), expert: new Int32Array(rows).fill(-1), choice: new Int32Array(rows),
          data: new Float32Array(rows * H), applied: new Uint8Array(rows * pieces),
        };
        return true;
      }
      // combine: the source knows what it sent that peer
      return rows === plan.dispatch[j]![peer]!.rows;
    },
    piece(phase, peer, row, token, expert, choice, elemOffset, elemCount, dv, at) {
      if (phase === MOE_DISPATCH) {
        // at expert rank j, from source `peer`: apply the expert as the row arrives
        const inb = inbound[j]![peer]!;
        const sent = plan.dispatch[peer]![j]!;
        const ok = token < T && choice < k && expert < E && owner[expert] === j &&
          (inb.expert[row] === -1 || (inb.token[row] === token && inb.expert[row] === expert && inb.choice[row] === choice)) &&
          sent.token[row] === token && sent.expert[row] === expert && sent.choice[row] === choice;
        if (!ok) {
          corruptRows++;
          return;
        }
        inb.token[row] = token;
        inb.expert[row] = expert;
        inb.choice[row] = choice;
        const a = inb.applied;
        const p = row * pieces + pieceOf(elemOffset);
        if (a[p]! > 0) {
          doubleApplied++;
          return;
        }
        a[p] = 1;
        appliedPieces++;
        const scale = expertScale(expert);
        const shift = expertShift(expert);
        const y = inb.data;
        for (let h = 0, o = row * H + elemOffset, b = at; h < elemCount; h++, o++, b += 4) {
          y[o] = Math.fround(Math.fround(scale * dv.getFloat32(b)) + shift);
        }
        return;
      }
      // combine, at source rank j, from expert rank `peer`: un-permute into the (token, choice) slot
      const sent = plan.dispatch[j]![peer]!;
      if (!(row < sent.rows && sent.token[row] === token && sent.expert[row] === expert && sent.choice[row] === choice)) {
        corruptRows++;
        return;
      }
      const slot = token * k + choice;
      const p = slot * pieces + pieceOf(elemOffset);
      const a = appliedBack[j]!;
      if (a[p]! > 0) {
        doubleApplied++;
        return;
      }
      a[p] = 1;
      appliedPieces++;
      const y = yBack[j]!;
      for (let h = 0, o = slot * H + elemOffset, b = at; h < elemCount; h++, o++, b += 4) y[o] = dv.getFloat32(b);
    },
    streamDone(phase) {
      received[phase]!++;
      ctx.progress((received[0]! + received[1]!) / (2 * recvStreams));
      checkPhase(phase);
    },
    acked(phase, peer) {
      if (isHere[peer]) return;
      acked[phase]!++;
      checkPhase(phase);
    },
    dead(phase, _peer, message) {
      phaseDone[phase]!.reject(new Error(`moe ${phaseName(phase)}: ${message}`));
    },
  });

  const job = await jobPromise;
  const endpoints = here.map((j) => new MoeEndpoint(ctx.hosts[j]!, j, addresses, names, job, H, policy, eventsFor(j)));
  const before = await ctx.linkReports();
  const tier0 = await ctx.tierBytes();
  const outputs: Float32Array[] = plan.x.map(() => NONE);
  let tallies: MoeTally[];
  try {
    for (const ep of endpoints) ep.attach();
    // every rank is bound before any sends
    await ctx.cluster.allGather('moe: every rank listening', null);
    const t0 = ctx.clock.now();
    checkPhase(MOE_DISPATCH);
    for (const ep of endpoints) ep.startPhase(MOE_DISPATCH, plan.dispatch[ep.rank]!);
    const tDispatch = await ctx.driver.wait(phaseDone[MOE_DISPATCH]!);
    // The all-to-all is a collective: combine starts once every process holds its dispatch.
    // Endpoints keep answering (re-acknowledging) meanwhile.
    await ctx.cluster.allGather('moe: dispatch done', null);
    const t1 = ctx.clock.now();
    for (const ep of endpoints) ep.stopPhase(MOE_DISPATCH);
    checkPhase(MOE_COMBINE);
    // combine: each expert rank returns its outputs in the order the rows came
    for (const ep of endpoints) ep.startPhase(MOE_COMBINE, inbound[ep.rank]!);
    const tCombine = await ctx.driver.wait(phaseDone[MOE_COMBINE]!);
    for (const ep of endpoints) ep.stopPhase(MOE_COMBINE);

    // Un-permuted outputs of this process's ranks, checked against the local reference bit for bit.
    let wrongTokens = 0;
    for (const i of here) {
      const out = new Float32Array(T * H);
      const r = plan.routing[i]!;
      const kept = plan.capacityResult[i]!.kept;
      for (let t = 0; t < T; t++) combineToken(plan.x[i]!, t * H, H, k, kept, r.gate, t * k, yBack[i]!, t * k * H, out, t * H);
      outputs[i] = out;
      const ref = referenceOutputs(plan, i);
      for (let t = 0; t < T; t++) {
        for (let h = t * H, end = h + H; h < end; h++) {
          if (out[h] !== ref[h]) {
            wrongTokens++;
            break;
          }
        }
      }
    }
    const mine: MoeTally = {
      ranks: here,
      bytesTo: endpoints.map((ep) => Array.from(ep.bytesTo)),
      dispatchNs: tDispatch - t0,
      combineNs: tCombine - t1,
      totalNs: tCombine - t0,
      retransmissions: endpoints.reduce((s, ep) => s + ep.retransmissions, 0),
      duplicates: endpoints.reduce((s, ep) => s + ep.duplicates, 0),
      malformedFrames: endpoints.reduce((s, ep) => s + ep.malformed + ep.stray, 0),
      corruptRows,
      doubleApplied,
      appliedPieces,
      wrongTokens,
    };
    // Ranks stay bound (answering retransmissions) until every process has its results.
    tallies = await ctx.cluster.allGather('moe: results', here.length > 0 ? mine : null);
  } finally {
    for (const ep of endpoints) ep.detach();
  }
  const after = await ctx.linkReports();
  const tier1 = await ctx.tierBytes();

  const sum = (key: 'retransmissions' | 'duplicates' | 'malformedFrames' | 'corruptRows' | 'doubleApplied' | 'appliedPieces' | 'wrongTokens'): number =>
    tallies.reduce((s, t) => s + t[key], 0);
  // a phase took as long as its slowest process saw it take
  const slowest = (key: 'dispatchNs' | 'combineNs' | 'totalNs'): number => tallies.reduce((m, t) => Math.max(m, t[key]), 0);
  const trafficMatrixBytes: number[][] = Array.from({ length: R }, () => new Array<number>(R).fill(0));
  for (const t of tallies) t.ranks.forEach((r, n) => (trafficMatrixBytes[r] = t.bytesTo[n]!));
  const wrongTokens = sum('wrongTokens');
  corruptRows = sum('corruptRows');
  doubleApplied = sum('doubleApplied');
  appliedPieces = sum('appliedPieces');
  const malformedFrames = sum('malformedFrames');

  const expertLoad = new Array<number>(E).fill(0);
  const expertDemand = new Array<number>(E).fill(0);
  let droppedTokens = 0;
  let tokensWithoutExpert = 0;
  for (let i = 0; i < R; i++) {
    const c = plan.capacityResult[i]!;
    for (let e = 0; e < E; e++) {
      expertLoad[e]! += c.load[e]!;
      expertDemand[e]! += c.demand[e]!;
    }
    droppedTokens += c.dropped;
    for (let t = 0; t < T; t++) {
      let any = 0;
      for (let ch = 0; ch < k; ch++) any |= c.kept[t * k + ch]!;
      if (any === 0) tokensWithoutExpert++;
    }
  }
  const rankLoad = new Array<number>(R).fill(0);
  for (let e = 0; e < E; e++) rankLoad[owner[e]!]! += expertLoad[e]!;
  const totalLoad = rankLoad.reduce((s, v) => s + v, 0);
  const overloadFactor = totalLoad > 0 ? Math.max(...rankLoad) / (totalLoad / R) : 0;

  // link counters as the report reads them (in topology link order; meaningful in the leader)
  let queueDrops = 0;
  let lostFrames = 0;
  const linkBytes = ctx.fabric.links.map((l, n) => {
    const a = after[n];
    const b = before[n];
    if (a && b) {
      queueDrops += a.drops.ab + a.drops.ba - (b.drops.ab + b.drops.ba);
      lostFrames += a.lost.ab + a.lost.ba - (b.lost.ab + b.lost.ba);
    }
    return { a: l.spec.a, b: l.spec.b, ab: (a?.bytes.ab ?? 0) - (b?.bytes.ab ?? 0), ba: (a?.bytes.ba ?? 0) - (b?.bytes.ba ?? 0) };
  });
  const hostTier = ctx.topology.tierKeys[0];
  const core: number[] = [];
  ctx.fabric.links.forEach((l, n) => {
    if (l.spec.tier !== hostTier && !l.down) core.push(linkBytes[n]!.ab, linkBytes[n]!.ba);
  });
  const coreMean = core.reduce((s, v) => s + v, 0) / Math.max(1, core.length);
  const tierBytes: Record<string, number> = {};
  for (const key of Object.keys(tier1)) tierBytes[key] = tier1[key]! - (tier0[key] ?? 0);

  const tokenMatrix = plan.dispatch.map((row) => row.map((s) => s.rows));
  const correct =
    wrongTokens === 0 && corruptRows === 0 && doubleApplied === 0 && appliedPieces === expectedPieces && malformedFrames === 0;
  const result: MoeResult = {
    workload: 'moe',
    ...(spec.name ? { name: spec.name } : {}),
    loadBalancing: ctx.loadBalancing ?? spec.loadBalancing?.[0] ?? 'ecmp',
    ranks: R,
    experts: E,
    topK: k,
    tokensPerRank: T,
    hidden: H,
    capacity: plan.capacity ?? 0,
    capacityFactor: spec.capacityFactor,
    dropless: plan.capacity === null,
    dropPolicy: spec.dropPolicy,
    skew: spec.skew,
    placement: 'contiguous',
    expertsPerRank: Array.from({ length: R }, (_, r) => plan.placement.first[r + 1]! - plan.placement.first[r]!),
    expertLoad,
    expertDemand,
    rankLoad,
    droppedTokens,
    tokensWithoutExpert,
    overloadFactor: round(overloadFactor, 4),
    auxLoss: round(auxLoss(plan.stats), 6),
    zLoss: round(zLoss(plan.stats), 6),
    timeSec: round(slowest('totalNs') / 1e9, 9),
    dispatchSec: round(slowest('dispatchNs') / 1e9, 9),
    combineSec: round(slowest('combineNs') / 1e9, 9),
    trafficMatrixBytes,
    tokenMatrix,
    retransmissions: sum('retransmissions'),
    duplicates: sum('duplicates'),
    malformedFrames,
    corruptRows,
    doubleApplied,
    appliedPieces,
    expectedPieces,
    wrongTokens,
    tierBytes,
    linkBytes,
    fabricLinkImbalance: core.length > 0 && coreMean > 0 ? round(Math.max(...core) / coreMean, 4) : 0,
    queueDrops,
    lostFrames,
    correct,
  };
  return { result, plan, outputs };
}

const moe: WorkloadModule<Partial<MoeSpec>> = {
  kind: 'moe',
  distributed: true,
  async run(ctx, spec) {
    return [(await runMoe(ctx, spec)).result];
  },
};

export default moe;
