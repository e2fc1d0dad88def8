/**
 * Shared pieces of the MoE tests: scenarios built in code, the runner's way through one moe
 * workload keeping its plan and outputs, and brute-force references for what a run must yield.
 */
import { LOCAL_CLUSTER } from '../../src/run/cluster.js';
import { validateScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { programFor, selectHosts } from '../../src/run/runner.js';
import { Fabric } from '../../src/run/fabric.js';
import { RealDriver, SimDriver } from '../../src/run/driver.js';
import { loadProgram } from '../../src/run/registry.js';
import { buildTopology } from '../../src/topology/from-spec.js';
import type { SimClock } from '../../src/net/sim-clock.js';
import { runMoe, type MoePlan, type MoeResult, type MoeRun, type MoeSpec } from '../../hosts/moe/moe.js';
import { expect } from 'vitest';
import { expertScale, expertShift, type Routing } from '../../hosts/moe/moe-router.js';

export interface MoeCase {
  name?: string;
  mode?: 'sim' | 'udp';
  seed?: number;
  topology: Record<string, unknown>;
  links?: Record<string, unknown>;
  loadBalancing?: string;
  moe: Partial<MoeSpec> & { ranks?: number | string[] | 'all'; loadBalancing?: string[] };
}

export function moeScenario(c: MoeCase): Scenario {
  return validateScenario(
    {
      name: c.name ?? 'moe-test',
      mode: c.mode ?? 'sim',
      seed: c.seed ?? 1,
      topology: c.topology,
      ...(c.links ? { links: c.links } : {}),
      switches: { loadBalancing: c.loadBalancing ?? 'ecmp' },
      workloads: [{ kind: 'moe', ...c.moe }],
    },
    '<moe test>',
  );
}

/** What runScenario does for the scenario's one moe workload, keeping the plan and the outputs. */
export async function runMoeCase(s: Scenario): Promise<MoeRun> {
  const topology = buildTopology(s.topology);
  const fabric = await Fabric.build({ topology, mode: s.mode, seed: s.seed, links: s.links, program: await loadProgram(programFor(s)), switchOptions: s.switches });
  const w = s.workloads[0]! as unknown as Partial<MoeSpec> & { ranks?: unknown };
  try {
    return await runMoe(
      {
        mode: s.mode,
        clock: fabric.clock,
        cluster: LOCAL_CLUSTER,
        tierBytes: async () => fabric.tierBytes(),
        linkReports: async () => fabric.linkReports(),
        rng: fabric.rng.fork('workload:0'),
        topology,
        driver: s.mode === 'sim' ? new SimDriver(fabric.clock as SimClock) : new RealDriver(fabric.clock),
        fabric,
        hosts: selectHosts(topology, fabric.hosts, w.ranks),
        loadBalancing: s.switches.loadBalancing,
        progress: () => {},
      },
      w,
    );
  } finally {
    await fabric.close();
  }
}

/** Which (token, choice) assignments survive, by brute force: per expert, sort by the policy, keep `capacity`. */
export function bruteKeep(r: Routing, capacity: number | null, policy: 'probs' | 'position'): Uint8Array {
  const n = r.tokens * r.topK;
  const kept = new Uint8Array(n);
  for (let e = 0; e < r.experts; e++) {
    const mine: number[] = [];
    for (let i = 0; i < n; i++) if (r.expert[i] === e) mine.push(i);
    const tok = (i: number): number => Math.floor(i / r.topK);
    const order = policy === 'position'
      ? mine.sort((a, b) => tok(a) - tok(b))
      : mine.sort((a, b) => (r.gate[a]! === r.gate[b]! ? tok(a) - tok(b) : r.gate[b]! > r.gate[a]! ? 1 : -1));
    order.slice(0, capacity ?? Infinity).forEach((i) => (kept[i] = 1));
  }
  return kept;
}

/** Megatron's capacity, written out again: ceil((T·k / E) · CF), T per source rank. */
export function bruteCapacity(spec: MoeSpec): number | null {
  return spec.capacityFactor === null ? null : Math.ceil(((spec.tokensPerRank * spec.topK) / spec.experts) * spec.capacityFactor);
}

/** Σ over (expert, source rank) of max(0, load − capacity), from the routing alone. */
export function bruteDropped(plan: MoePlan): number {
  const cap = bruteCapacity(plan.spec);
  if (cap === null) return 0;
  let dropped = 0;
  for (const r of plan.routing) {
    const load = new Array<number>(r.experts).fill(0);
    for (const e of r.expert) load[e]!++;
    for (const l of load) dropped += Math.max(0, l - cap);
  }
  return dropped;
}

/**
 * Rank i's outputs from first principles: x + Σ over kept choices, in choice order, of
 * gate · (a_e·x + b_e), every operation in float32; dropped choices contribute nothing.
 */
export function bruteOutputs(plan: MoePlan, i: number): Float32Array {
  const { tokensPerRank: T, hidden: H, topK: k, dropPolicy } = plan.spec;
  const r = plan.routing[i]!;
  const kept = bruteKeep(r, bruteCapacity(plan.spec), dropPolicy);
  const x = plan.x[i]!;
  const out = new Float32Array(T * H);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) {
      let acc = x[t * H + h]!;
      for (let c = 0; c < k; c++) {
        if (kept[t * k + c] !== 1) continue;
        const e = r.expert[t * k + c]!;
        const y = Math.fround(Math.fround(expertScale(e) * x[t * H + h]!) + expertShift(e));
        acc = Math.fround(acc + Math.fround(r.gate[t * k + c]! * y));
      }
      out[t * H + h] = acc;
    }
  }
  return out;
}

/** Tokens of rank i whose output differs from the brute-force reference in any bit. */
export function wrongTokens(plan: MoePlan, outputs: Float32Array[], i: number): number {
  const ref = bruteOutputs(plan, i);
  const H = plan.spec.hidden;
  const a = new Uint32Array(outputs[i]!.buffer, outputs[i]!.byteOffset, outputs[i]!.length);
  const b = new Uint32Array(ref.buffer);
  let wrong = 0;
  for (let t = 0; t < plan.spec.tokensPerRank; t++) {
    for (let h = t * H; h < (t + 1) * H; h++) {
      if (a[h] !== b[h]) {
        wrong++;
        break;
      }
    }
  }
  return wrong;
}

/** A correct MoE run, every check spelled out (so a failure says which one). */
export function expectCorrect(r: MoeResult, what: string): void {
  expect(r.correct, `${what}: ${JSON.stringify({ ...r, trafficMatrixBytes: undefined, linkBytes: undefined, tokenMatrix: undefined })}`).toBe(true);
  expect(r.wrongTokens).toBe(0);
  expect(r.corruptRows).toBe(0);
  expect(r.malformedFrames).toBe(0);
  // no token delivered twice: every piece applied once, and exactly the pieces expected
  expect(r.doubleApplied).toBe(0);
  expect(r.appliedPieces).toBe(r.expectedPieces);
}
