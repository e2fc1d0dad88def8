/**
 * The MoE router's pure functions (hosts/moe/moe-router.ts) against brute-force references and
 * direct formulas: top-k, capacity, both drop policies, aux loss, z-loss, Zipf skew, placement.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  accumulateRouterStats, applyCapacity, applyExpert, auxLoss, combineToken, expertCapacity, newRouterStats, placeExperts,
  popularityRanks, routerLogits, topKRoute, zipfLogBias, zipfProbabilities, zLoss, type Routing,
} from '../../hosts/moe/moe-router.js';
import { planMoe } from '../../hosts/moe/moe.js';
import { createRng } from '../../src/net/rng.js';

/** logits with many ties: small integers (or halves) */
const tiedLogits = (maxTokens: number, maxExperts: number) =>
  fc.record({ tokens: fc.integer({ min: 1, max: maxTokens }), experts: fc.integer({ min: 1, max: maxExperts }), seed: fc.integer(), spread: fc.integer({ min: 1, max: 6 }) })
    .chain(({ tokens, experts, seed, spread }) =>
      fc.record({
        tokens: fc.constant(tokens),
        experts: fc.constant(experts),
        topK: fc.integer({ min: 1, max: experts }),
        logits: fc.constant(Float64Array.from({ length: tokens * experts }, (_, i) => {
          const r = createRng(seed).fork(`l${i}`);
          return (r.int(spread * 2 + 1) - spread) / 2;
        })),
      }));

/** the k largest logits of a row, ties to the lower expert id, by sorting */
function bruteTopK(logits: Float64Array, t: number, experts: number, k: number): number[] {
  const ids = Array.from({ length: experts }, (_, e) => e);
  ids.sort((a, b) => logits[t * experts + b]! - logits[t * experts + a]! || a - b);
  return ids.slice(0, k);
}

/** kept[t·k + c] by brute force: per expert, sort its assignments by the policy and keep `capacity` */
function bruteKeep(r: Routing, capacity: number | null, policy: 'probs' | 'position'): Uint8Array {
  const n = r.tokens * r.topK;
  const kept = new Uint8Array(n);
  for (let e = 0; e < r.experts; e++) {
    const mine: number[] = [];
    for (let i = 0; i < n; i++) if (r.expert[i] === e) mine.push(i);
    const order = policy === 'position'
      ? mine.sort((a, b) => Math.floor(a / r.topK) - Math.floor(b / r.topK))
      : mine.sort((a, b) => (r.gate[a]! === r.gate[b]! ? Math.floor(a / r.topK) - Math.floor(b / r.topK) : r.gate[b]! > r.gate[a]! ? 1 : -1));
    order.slice(0, capacity ?? Infinity).forEach((i) => (kept[i] = 1));
  }
  return kept;
}

describe('top-k routing', () => {
  it('picks the k largest logits, best first, ties to the lower expert id (vs sorting)', () => {
    fc.assert(
      fc.property(tiedLogits(20, 12), ({ tokens, experts, topK, logits }) => {
        const r = topKRoute(logits, tokens, experts, topK);
        for (let t = 0; t < tokens; t++) {
          expect(Array.from(r.expert.subarray(t * topK, (t + 1) * topK))).toEqual(bruteTopK(logits, t, experts, topK));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gate probabilities are the softmax over the chosen logits, in float32, summing to ~1', () => {
    fc.assert(
      fc.property(tiedLogits(10, 10), ({ tokens, experts, topK, logits }) => {
        const r = topKRoute(logits, tokens, experts, topK);
        for (let t = 0; t < tokens; t++) {
          const chosen = bruteTopK(logits, t, experts, topK).map((e) => logits[t * experts + e]!);
          const z = chosen.reduce((s, l) => s + Math.exp(l), 0);
          let sum = 0;
          chosen.forEach((l, c) => {
            const g = r.gate[t * topK + c]!;
            expect(g).toBe(Math.fround(g));
            expect(Math.abs(g - Math.exp(l) / z)).toBeLessThanOrEqual(2 ** -23);
            sum += g;
          });
          expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
          // best first: non-increasing
          for (let c = 1; c < topK; c++) expect(r.gate[t * topK + c]!).toBeLessThanOrEqual(r.gate[t * topK + c - 1]!);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rejects topK outside 1..experts', () => {
    expect(() => topKRoute(new Float64Array(4), 1, 4, 5)).toThrow(/topK/);
    expect(() => topKRoute(new Float64Array(4), 1, 4, 0)).toThrow(/topK/);
  });
});

describe('expert capacity (Megatron-Core get_capacity with num_tokens = T·k, T per source rank)', () => {
  it('is ceil((T·k / E) · CF), null when dropless', () => {
    expect(expertCapacity(1024, 2, 16, 1.25)).toBe(160);
    expect(expertCapacity(1024, 2, 8, 1.0)).toBe(256);
    expect(expertCapacity(1000, 1, 3, 1.0)).toBe(334);
    expect(expertCapacity(7, 2, 16, 0.1)).toBe(1);
    expect(expertCapacity(1024, 2, 16, null)).toBeNull();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 400 }), (T, k, E, cf100) => {
        const cf = cf100 / 100;
        const c = expertCapacity(T, k, E, cf)!;
        // Megatron's float expression, evaluated in the same order
        expect(c).toBe(Math.ceil(((T * k) / E) * cf));
        // ... which is the exact rational ceiling up to float rounding at integer boundaries
        const exact = Math.ceil((T * k * cf100) / (E * 100));
        expect(c - exact).toBeGreaterThanOrEqual(0);
        expect(c - exact).toBeLessThanOrEqual(1);
        expect(c).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('capacity and drop policies', () => {
  const arb = fc.record({
    tokens: fc.integer({ min: 1, max: 60 }),
    experts: fc.integer({ min: 1, max: 8 }),
    k: fc.integer({ min: 1, max: 8 }),
    capacity: fc.option(fc.integer({ min: 1, max: 70 }), { nil: null }),
    policy: fc.constantFrom('probs' as const, 'position' as const),
    seed: fc.integer(),
    coarse: fc.boolean(),
  });

  it('keeps exactly what a brute-force per-expert sort keeps; dropped = Σ_e max(0, demand − capacity)', () => {
    fc.assert(
      fc.property(arb, ({ tokens, experts, k: k0, capacity, policy, seed, coarse }) => {
        const k = Math.min(k0, experts);
        const rng = createRng(seed);
        // coarse logits make equal gate probabilities common, so the tie rule is exercised
        const logits = Float64Array.from({ length: tokens * experts }, () => (coarse ? rng.int(3) : rng.next() * 4));
        const r = topKRoute(logits, tokens, experts, k);
        const res = applyCapacity(r, capacity, policy);
        expect(Array.from(res.kept)).toEqual(Array.from(bruteKeep(r, capacity, policy)));
        const demand = new Array<number>(experts).fill(0);
        for (const e of r.expert) demand[e]!++;
        expect(Array.from(res.demand)).toEqual(demand);
        const expectDropped = demand.reduce((s, d) => s + Math.max(0, d - (capacity ?? Infinity)), 0);
        expect(res.dropped).toBe(expectDropped);
        expect(res.kept.reduce((s, v) => s + v, 0)).toBe(tokens * k - expectDropped);
        for (let e = 0; e < experts; e++) expect(res.load[e]).toBe(Math.min(demand[e]!, capacity ?? Infinity));
      }),
      { numRuns: 400 },
    );
  });

  it('probs drops the lowest gate probability first; position drops the latest tokens', () => {
    // 4 tokens all choosing expert 0 (top-1 of 2 experts), gates by construction
    const r: Routing = { tokens: 4, experts: 2, topK: 1, expert: Int32Array.from([0, 0, 0, 0]), gate: Float32Array.from([0.6, 0.9, 0.7, 0.8]) };
    expect(Array.from(applyCapacity(r, 2, 'probs').kept)).toEqual([0, 1, 0, 1]);
    expect(Array.from(applyCapacity(r, 2, 'position').kept)).toEqual([1, 1, 0, 0]);
    expect(applyCapacity(r, 2, 'probs').dropped).toBe(2);
    expect(applyCapacity(r, null, 'probs').dropped).toBe(0);
  });
});

describe('auxiliary load-balancing loss and z-loss', () => {
  it('equal the direct formulas E·Σ f_i·P_i and mean(logsumexp²), accumulated over ranks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (ranks, tokens, experts, k0, seed) => {
        const k = Math.min(k0, experts);
        const s = newRouterStats(experts, k);
        const all: Array<{ l: Float64Array; r: Routing }> = [];
        for (let q = 0; q < ranks; q++) {
          const l = routerLogits(tokens, zipfLogBias(1.3, popularityRanks(experts, createRng(seed))), createRng(seed).fork(`r${q}`));
          const r = topKRoute(l, tokens, experts, k);
          accumulateRouterStats(s, l, r);
          all.push({ l, r });
        }
        const T = ranks * tokens;
        const f = new Array<number>(experts).fill(0);
        const P = new Array<number>(experts).fill(0);
        let z = 0;
        for (const { l, r } of all) {
          for (const e of r.expert) f[e]! += 1 / (T * k);
          for (let t = 0; t < tokens; t++) {
            const row = Array.from(l.subarray(t * experts, (t + 1) * experts));
            const denom = row.reduce((acc, v) => acc + Math.exp(v), 0);
            row.forEach((v, e) => (P[e]! += Math.exp(v) / denom / T));
            z += Math.log(denom) ** 2 / T;
          }
        }
        const aux = experts * f.reduce((acc, fi, e) => acc + fi * P[e]!, 0);
        expect(auxLoss(s)).toBeCloseTo(aux, 10);
        expect(zLoss(s)).toBeCloseTo(z, 8);
        expect(s.tokens).toBe(T);
      }),
      { numRuns: 100 },
    );
  });

  it('aux loss is ~1 for uniform routing and ~E when one expert takes everything', () => {
    const E = 8;
    const uniform = newRouterStats(E, 2);
    const l = routerLogits(20000, new Float64Array(E), createRng(3));
    accumulateRouterStats(uniform, l, topKRoute(l, 20000, E, 2));
    expect(auxLoss(uniform)).toBeGreaterThan(0.98);
    expect(auxLoss(uniform)).toBeLessThan(1.02);
    const hot = newRouterStats(E, 1);
    const lh = Float64Array.from({ length: 100 * E }, (_, i) => (i % E === 3 ? 50 : 0));
    accumulateRouterStats(hot, lh, topKRoute(lh, 100, E, 1));
    expect(auxLoss(hot)).toBeCloseTo(E, 6);
    // all-zero logits: logsumexp = ln E
    const zs = newRouterStats(E, 1);
    const l0 = new Float64Array(10 * E);
    accumulateRouterStats(zs, l0, topKRoute(l0, 10, E, 1));
    expect(zLoss(zs)).toBeCloseTo(Math.log(E) ** 2, 12);
  });
});

describe('Zipf skew', () => {
  it('skew 0 is uniform; the top-1 expert follows Zipf(skew) over the popularity ranks (Gumbel-max)', () => {
    const E = 8;
    const pop = popularityRanks(E, createRng(11));
    expect(Array.from(zipfLogBias(0, pop))).toEqual(new Array(E).fill(0));
    expect([...pop].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const skew of [0, 0.8, 1.5]) {
      const T = 40000;
      const r = topKRoute(routerLogits(T, zipfLogBias(skew, pop), createRng(5).fork(`s${skew}`)), T, E, 1);
      const freq = new Array<number>(E).fill(0);
      for (const e of r.expert) freq[e]! += 1 / T;
      const p = zipfProbabilities(skew, pop);
      for (let e = 0; e < E; e++) expect(Math.abs(freq[e]! - p[e]!)).toBeLessThan(0.012);
      if (skew > 0) {
        const hottest = pop.indexOf(0);
        expect(freq[hottest]).toBe(Math.max(...freq));
      }
    }
  });
});

describe('placement, expert compute, combine', () => {
  it('contiguous blocks cover every expert once, sizes within one of E/R', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 16 }), (E, R) => {
        const p = placeExperts(E, R);
        const counts = new Array<number>(R).fill(0);
        for (let e = 0; e < E; e++) {
          counts[p.owner[e]!]!++;
          if (e > 0) expect(p.owner[e]!).toBeGreaterThanOrEqual(p.owner[e - 1]!);
          expect(e >= p.first[p.owner[e]!]! && e < p.first[p.owner[e]! + 1]!).toBe(true);
        }
        for (const c of counts) {
          expect(c).toBeGreaterThanOrEqual(Math.floor(E / R));
          expect(c).toBeLessThanOrEqual(Math.ceil(E / R));
        }
        if (E % R === 0) expect(counts).toEqual(new Array(R).fill(E / R));
      }),
    );
  });

  it('experts differ from each other; combine is the residual plus the kept gated outputs; all dropped = residual', () => {
    const x = Float32Array.from([1, -2.5, 3.25]);
    const ys = [0, 1, 2, 3].map((e) => {
      const y = new Float32Array(3);
      applyExpert(e, x, 0, y, 0, 3);
      return Array.from(y);
    });
    expect(new Set(ys.map((y) => JSON.stringify(y))).size).toBe(4);
    const y = new Float32Array(6);
    applyExpert(2, x, 0, y, 0, 3);
    applyExpert(3, x, 0, y, 3, 3);
    const gate = Float32Array.from([0.75, 0.25]);
    const out = new Float32Array(3);
    combineToken(x, 0, 3, 2, Uint8Array.from([1, 0]), gate, 0, y, 0, out, 0);
    for (let h = 0; h < 3; h++) expect(out[h]).toBe(Math.fround(x[h]! + Math.fround(0.75 * y[h]!)));
    combineToken(x, 0, 3, 2, Uint8Array.from([0, 0]), gate, 0, y, 0, out, 0);
    expect(Array.from(out)).toEqual(Array.from(x));
  });

  it('the plan is a function of the seed', () => {
    const spec = { tokensPerRank: 50, hidden: 6, experts: 5, topK: 2, capacityFactor: 1, dropPolicy: 'probs' as const, skew: 1.2 };
    const a = planMoe(spec, 3, createRng(9));
    const b = planMoe(spec, 3, createRng(9));
    const c = planMoe(spec, 3, createRng(10));
    expect(a.routing.map((r) => Array.from(r.expert))).toEqual(b.routing.map((r) => Array.from(r.expert)));
    expect(a.x.map((x) => Array.from(x))).toEqual(b.x.map((x) => Array.from(x)));
    expect(a.routing.map((r) => Array.from(r.expert))).not.toEqual(c.routing.map((r) => Array.from(r.expert)));
  });
});
