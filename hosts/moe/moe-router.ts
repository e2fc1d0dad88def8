import type { Rng } from '../../src/net/rng.js';

/**
 * The MoE router as pure functions: logits with a Zipf skew over experts, top-k with gate
 * probabilities, Megatron-Core's expert capacity and token dropping, the auxiliary
 * load-balancing loss and the z-loss. No I/O, no clock: hosts/moe/moe.ts calls these per rank and
 * the tests check each against a brute-force reference.
 *
 * Logits. Token t's logit for expert e is log w_e + g_{t,e}, with g_{t,e} standard Gumbel
 * noise and w_e = 1 / (1 + popularity_e)^skew, popularity a seeded permutation of 0..E-1 (so
 * which experts are hot does not line up with where they are placed). By the Gumbel-max
 * trick the top-1 expert is then distributed exactly as Zipf(skew) over the popularity ranks
 * (w_e / Σ w), and the top-k set is a draw without replacement from those weights
 * (Gumbel-top-k): skew 0 is uniform routing.
 *
 * Gate probabilities as Megatron-Core's default softmax router (and Mixtral): softmax over the
 * k selected logits, i.e. the full softmax renormalised over the chosen experts; rounded to
 * float32, the dtype the combine multiplies in.
 */

export type DropPolicy = 'probs' | 'position';

/** A seeded permutation of 0..experts-1: expert e's place in popularity (0 = hottest). */
export function popularityRanks(experts: number, rng: Rng): Int32Array {
  const order = new Int32Array(experts);
  for (let i = 0; i < experts; i++) order[i] = i;
  for (let i = experts - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  // order[p] is the expert at popularity p; invert it
  const rank = new Int32Array(experts);
  for (let p = 0; p < experts; p++) rank[order[p]!] = p;
  return rank;
}

/** log w_e = -skew · ln(1 + popularity_e): the Zipf bias added to every token's logits. */
export function zipfLogBias(skew: number, popularity: Int32Array): Float64Array {
  const b = new Float64Array(popularity.length);
  for (let e = 0; e < b.length; e++) b[e] = skew === 0 ? 0 : -skew * Math.log(1 + popularity[e]!);
  return b;
}

/** The Zipf weights w_e / Σ w: the probability that expert e is a token's top-1 choice. */
export function zipfProbabilities(skew: number, popularity: Int32Array): Float64Array {
  const b = zipfLogBias(skew, popularity);
  const w = new Float64Array(b.length);
  let sum = 0;
  for (let e = 0; e < b.length; e++) sum += w[e] = Math.exp(b[e]!);
  for (let e = 0; e < b.length; e++) w[e] = w[e]! / sum;
  return w;
}

/** Standard Gumbel noise from a uniform strictly inside (0, 1). */
function gumbel(rng: Rng): number {
  const u = (rng.nextU32() + 0.5) / 4294967296;
  return -Math.log(-Math.log(u));
}

/** Router logits of `tokens` tokens, row-major [tokens × experts], float64. */
export function routerLogits(tokens: number, bias: Float64Array, rng: Rng): Float64Array {
  const experts = bias.length;
  const out = new Float64Array(tokens * experts);
  for (let t = 0, i = 0; t < tokens; t++) for (let e = 0; e < experts; e++, i++) out[i] = bias[e]! + gumbel(rng);
  return out;
}

/** A rank's routing: for each token its topK experts, best first, and their gate probabilities. */
export interface Routing {
  readonly tokens: number;
  readonly experts: number;
  readonly topK: number;
  /** [tokens × topK] expert ids, by descending logit (ties: lower expert id first) */
  readonly expert: Int32Array;
  /** [tokens × topK] gate probabilities (softmax over the chosen logits), float32 */
  readonly gate: Float32Array;
}

/** Top-k of each row of the logits, and the softmax over the chosen ones. */
export function topKRoute(logits: Float64Array, tokens: number, experts: number, topK: number): Routing {
  if (!(topK >= 1 && topK <= experts)) throw new RangeError(`topK must be in 1..${experts}, got ${topK}`);
  if (logits.length !== tokens * experts) throw new RangeError(`logits hold ${logits.length} values, not ${tokens} × ${experts}`);
  const expert = new Int32Array(tokens * topK);
  const gate = new Float32Array(tokens * topK);
  const chosen = new Uint8Array(experts);
  const ex = new Float64Array(topK);
  for (let t = 0; t < tokens; t++) {
    const row = t * experts;
    chosen.fill(0);
    for (let c = 0; c < topK; c++) {
      let best = -1;
      for (let e = 0; e < experts; e++) {
        if (chosen[e] === 1) continue;
        // strictly greater: among equal logits the lower expert id wins
        if (best < 0 || logits[row + e]! > logits[row + best]!) best = e;
      }
      chosen[best] = 1;
      expert[t * topK + c] = best;
    }
    const top = logits[row + expert[t * topK]!]!;
    let sum = 0;
    for (let c = 0; c < topK; c++) sum += ex[c] = Math.exp(logits[row + expert[t * topK + c]!]! - top);
    for (let c = 0; c < topK; c++) gate[t * topK + c] = Math.fround(ex[c]! / sum);
  }
  return { tokens, experts, topK, expert, gate };
}

/**
 * Expert capacity as Megatron-Core computes it for the token-drop dispatcher:
 * get_capacity(num_tokens = T · k, num_experts = E, capacity_factor = CF) =
 * ceil((T · k / E) · CF), where T is the number of tokens the router sees, i.e. the tokens of
 * ONE source rank (megatron/core/transformer/moe/moe_utils.py, apply_router_token_dropping /
 * topk_softmax_with_capacity). null capacity factor = dropless (no capacity): returns null.
 */
export function expertCapacity(tokensPerRank: number, topK: number, experts: number, capacityFactor: number | null): number | null {
  if (capacityFactor === null) return null;
  return Math.ceil(((tokensPerRank * topK) / experts) * capacityFactor);
}

/** Which of a rank's (token, choice) assignments survive the capacity of each expert. */
export interface CapacityResult {
  /** [tokens × topK]: 1 kept, 0 dropped */
  readonly kept: Uint8Array;
  /** tokens of this rank routed to each expert, before dropping */
  readonly demand: Int32Array;
  /** tokens of this rank each expert keeps */
  readonly load: Int32Array;
  /** assignments dropped: Σ_e max(0, demand_e − capacity) */
  readonly dropped: number;
}

/**
 * Applies a per-expert capacity to one source rank's routing (capacity null: keep all).
 * Drop policies, as Megatron-Core's `moe_token_drop_policy`:
 *  - probs: each expert keeps the `capacity` assignments with the highest gate probability
 *    (lowest dropped first); among equal probabilities the earlier token is kept;
 *  - position: each expert keeps the first `capacity` tokens in token order.
 */
export function applyCapacity(r: Routing, capacity: number | null, policy: DropPolicy): CapacityResult {
  const { tokens, experts, topK } = r;
  const n = tokens * topK;
  const kept = new Uint8Array(n);
  const demand = new Int32Array(experts);
  for (let i = 0; i < n; i++) demand[r.expert[i]!]!++;
  if (capacity === null) {
    kept.fill(1);
    return { kept, demand, load: demand.slice(), dropped: 0 };
  }
  const load = new Int32Array(experts);
  if (policy === 'position') {
    // token order: the first `capacity` tokens reaching each expert stay
    for (let i = 0; i < n; i++) {
      const e = r.expert[i]!;
      if (load[e]! < capacity) {
        load[e]!++;
        kept[i] = 1;
      }
    }
  } else {
    // per expert, its assignments sorted by gate probability (descending), then token
    const byExpert: number[][] = Array.from({ length: experts }, () => []);
    for (let i = 0; i < n; i++) byExpert[r.expert[i]!]!.push(i);
    for (let e = 0; e < experts; e++) {
      const list = byExpert[e]!;
      if (list.length > capacity) list.sort((a, b) => r.gate[b]! - r.gate[a]! || a - b);
      const keep = Math.min(capacity, list.length);
      for (let j = 0; j < keep; j++) kept[list[j]!] = 1;
      load[e] = keep;
    }
  }
  let dropped = 0;
  for (let e = 0; e < experts; e++) dropped += demand[e]! - load[e]!;
  return { kept, demand, load, dropped };
}

/**
 * Router statistics accumulated over the tokens of every rank (the global batch): Σ_t of the
 * full softmax, tokens per expert before dropping, Σ_t logsumexp², and the token count.
 */
export interface RouterStats {
  readonly experts: number;
  readonly topK: number;
  tokens: number;
  readonly probSum: Float64Array;
  readonly counts: Float64Array;
  lseSquaredSum: number;
}

export function newRouterStats(experts: number, topK: number): RouterStats {
  return { experts, topK, tokens: 0, probSum: new Float64Array(experts), counts: new Float64Array(experts), lseSquaredSum: 0 };
}

/** Adds one rank's tokens (its logits and routing before capacity) to the statistics. */
export function accumulateRouterStats(s: RouterStats, logits: Float64Array, r: Routing): void {
  const E = s.experts;
  for (let t = 0; t < r.tokens; t++) {
    const row = t * E;
    let max = -Infinity;
    for (let e = 0; e < E; e++) if (logits[row + e]! > max) max = logits[row + e]!;
    let sum = 0;
    for (let e = 0; e < E; e++) sum += Math.exp(logits[row + e]! - max);
    for (let e = 0; e < E; e++) s.probSum[e] = s.probSum[e]! + Math.exp(logits[row + e]! - max) / sum;
    const lse = max + Math.log(sum);
    s.lseSquaredSum += lse * lse;
  }
  for (let i = 0; i < r.expert.length; i++) s.counts[r.expert[i]!] = s.counts[r.expert[i]!]! + 1;
  s.tokens += r.tokens;
}

/**
 * The Switch Transformer / Megatron-Core auxiliary load-balancing loss, coefficient 1:
 * E · Σ_i f_i · P_i, f_i = (tokens routed to i) / (T · k), P_i = (1/T) Σ_t softmax(logits_t)_i.
 * 1 when routing is perfectly uniform; up to E when everything goes to one expert.
 */
export function auxLoss(s: RouterStats): number {
  if (s.tokens === 0) return 0;
  let acc = 0;
  for (let e = 0; e < s.experts; e++) acc += (s.counts[e]! / (s.tokens * s.topK)) * (s.probSum[e]! / s.tokens);
  return s.experts * acc;
}

/** The ST-MoE router z-loss, coefficient 1: mean over tokens of logsumexp(logits_t)². */
export function zLoss(s: RouterStats): number {
  return s.tokens === 0 ? 0 : s.lseSquaredSum / s.tokens;
}

// ---- expert placement and compute ---------------------------------------------------------------

/**
 * Expert parallelism, contiguous as Megatron-Core places local experts (rank r holds
 * r·E/R .. (r+1)·E/R − 1). When E is not a multiple of R the blocks are ⌊rE/R⌋ .. ⌊(r+1)E/R⌋ − 1,
 * so some ranks hold one expert more (and with E < R some hold none); Megatron requires
 * divisibility, this emulator does not.
 */
export interface Placement {
  /** owner rank of each expert */
  readonly owner: Int32Array;
  /** rank r holds experts first[r] .. first[r+1] − 1 */
  readonly first: Int32Array;
}

export function placeExperts(experts: number, ranks: number): Placement {
  if (!(ranks >= 1)) throw new RangeError(`ranks must be >= 1, got ${ranks}`);
  const first = new Int32Array(ranks + 1);
  for (let r = 0; r <= ranks; r++) first[r] = Math.floor((r * experts) / ranks);
  const owner = new Int32Array(experts);
  for (let r = 0; r < ranks; r++) for (let e = first[r]!; e < first[r + 1]!; e++) owner[e] = r;
  return { owner, first };
}

/** Expert e's scale and shift: fixed by its id, distinct between experts, float32. */
export function expertScale(e: number): number {
  return Math.fround(0.5 + ((e * 0.6180339887498949) % 1));
}
export function expertShift(e: number): number {
  return Math.fround(((e * 0.41421356237309515) % 1) - 0.5);
}

/**
 * Expert e applied to elements [from, to) of x into y at yAt: y = a_e · x + b_e elementwise,
 * each operation rounded to float32. Cheap, deterministic, and different for every expert, so a
 * token sent to the wrong expert, or to none, shows in its output.
 */
export function applyExpert(e: number, x: Float32Array, xAt: number, y: Float32Array, yAt: number, n: number): void {
  const a = expertScale(e);
  const b = expertShift(e);
  for (let i = 0; i < n; i++) y[yAt + i] = Math.fround(Math.fround(a * x[xAt + i]!) + b);
}

/**
 * The combine for one token: out = x (the residual) + Σ over its kept choices, in choice
 * order, of gate · y_choice, each operation rounded to float32. A dropped choice contributes
 * nothing (GShard / Switch Transformer: a token over capacity passes through the residual).
 * `y` holds the token's k expert outputs at y[yAt + c·hidden ..].
 */
export function combineToken(
  x: Float32Array, xAt: number, hidden: number, topK: number, kept: Uint8Array, gate: Float32Array, choiceAt: number,
  y: Float32Array, yAt: number, out: Float32Array, outAt: number,
): void {
  for (let h = 0; h < hidden; h++) out[outAt + h] = x[xAt + h]!;
  for (let c = 0; c < topK; c++) {
    if (kept[choiceAt + c] !== 1) continue;
    const p = gate[choiceAt + c]!;
    const yc = yAt + c * hidden;
    for (let h = 0; h < hidden; h++) out[outAt + h] = Math.fround(out[outAt + h]! + Math.fround(p * y[yc + h]!));
  }
}
