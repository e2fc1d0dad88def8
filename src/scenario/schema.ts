/**
 * The scenario file format (CONTRACT.md, "Scenario file") as one zod schema.
 *
 * Conventions that load.ts relies on:
 *  - every object is strict: an unknown key is an error, because a typo (`hostPerLeaf`) that
 *    silently falls back to a default is the worst kind of wrong result;
 *  - every message a schema here sets is the phrase that follows "expected" (load.ts composes
 *    `KEYPATH: expected PHRASE, got VALUE`);
 *  - the output has every default filled in, so consumers never re-derive a default;
 *  - every key says what it means (`.describe`): the JSON Schema (`ina schema`) and the README's
 *    scenario reference are generated from this file (src/scenario/json-schema.ts).
 *
 * Checks that need the built topology (node names exist, N workers fit) live in checks.ts.
 */
import { DEFAULT_LINK } from '../net/link-shaper.js';
import { MOE_DEFAULTS } from '../wire/moe.js';
import { z } from 'zod';
import { BYTE_SIZE_EXPECTED, BYTE_SIZE_PATTERN, ByteSizeError, parseByteSize } from './byte-size.js';
import type { TopologySpec } from '../topology/types.js';

// ---- phrase-carrying building blocks ------------------------------------------------------

function int(min: number, max?: number) {
  const phrase = max === undefined ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
  const s = z.int({ error: phrase }).min(min, { error: phrase });
  return max === undefined ? s : s.max(max, { error: phrase });
}

function atLeastZero() {
  return z.number({ error: 'a number >= 0' }).min(0, { error: 'a number >= 0' });
}

function positive() {
  return z.number({ error: 'a number > 0' }).positive({ error: 'a number > 0' });
}

/** a probability per packet */
function rate() {
  return z.number({ error: 'a number in 0..1' }).min(0, { error: 'a number in 0..1' }).max(1, { error: 'a number in 0..1' });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.join(', ')}` });
}

/** integer bytes or a string like 4MiB (byte-size.ts), at least `min` */
function byteSize(min: number) {
  // A transform has no JSON Schema of its own: say what it accepts (the loader's message is
  // the precise one; the pattern does not rule out a fractional byte count like 1.5B).
  const accepts = { anyOf: [{ type: 'integer', minimum: min }, { type: 'string', pattern: BYTE_SIZE_PATTERN }] };
  return z.unknown().meta(accepts).transform((input, ctx) => {
    if (input === undefined) {
      ctx.addIssue({ code: 'custom', message: BYTE_SIZE_EXPECTED });
      return z.NEVER;
    }
    const atLeast = `a size of at least ${min} byte${min === 1 ? '' : 's'}`;
    // a negative count is below this field's bound, whatever parseByteSize's own (0) says
    if (typeof input === 'number' && input < min) {
      ctx.addIssue({ code: 'custom', message: atLeast, input });
      return z.NEVER;
    }
    try {
      const bytes = parseByteSize(input);
      if (bytes < min) {
        ctx.addIssue({ code: 'custom', message: atLeast, input });
        return z.NEVER;
      }
      return bytes;
    } catch (e) {
      if (!(e instanceof ByteSizeError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.expected, input });
      return z.NEVER;
    }
  });
}

/** a list without repeats: running ring twice in one workload is a typo, not an experiment */
function uniqueList<T extends z.ZodType<string>>(item: T, what: string) {
  return z
    .array(item, { error: `a list of ${what}` })
    .min(1, { error: `a non-empty list of ${what}` })
    .superRefine((list, ctx) => {
      list.forEach((v, i) => {
        if (list.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `distinct ${what}`, input: v, params: { hint: 'listed twice' } });
      });
    });
}

const HOST_SELECTOR = '"all", a number of hosts, or a list of host names';

/** `all` | N (the first N hosts) | [h0, h5, ...]; names are checked against the topology later */
const HostSelectorSchema = z.union(
  [
    z.literal('all'),
    int(1),
    z.array(z.string({ error: 'a host name' }).min(1, { error: 'a host name' }), { error: HOST_SELECTOR }).min(1, {
      error: 'a non-empty list of host names',
    }),
  ],
  { error: HOST_SELECTOR },
);

// ---- enumerations --------------------------------------------------------------------------

export const MODES = ['udp', 'sim'] as const;
export const TOPOLOGY_KINDS = ['star', 'leaf-spine', 'fat-tree'] as const;
export const LOAD_BALANCERS = ['ecmp', 'flowlet', 'drill', 'conga'] as const;
export const ALLREDUCE_ALGORITHMS = ['ring', 'switchml', 'sharp'] as const;
export const DTYPES = ['float32', 'int32'] as const;
export const DROP_POLICIES = ['probs', 'position'] as const;
export const FLOW_DISTRIBUTIONS = ['websearch', 'datamining', 'fixed'] as const;
export const FLOW_PATTERNS = ['all-to-all', 'permutation', 'incast'] as const;
export const WORKLOAD_KINDS = ['pingall', 'allreduce', 'moe', 'flows'] as const;
export const ELEMENTS_PER_PACKET = [64, 256] as const;

/** bytes per element of each dtype, so `bytes` can be checked to hold whole elements */
export const DTYPE_BYTES = { float32: 4, int32: 4 } as const;

const LoadBalancingSchema = oneOf(LOAD_BALANCERS);

// ---- topology ------------------------------------------------------------------------------

export const TOPOLOGY_DEFAULTS = {
  star: { hosts: 4 },
  'leaf-spine': { leaves: 2, spines: 2, hostsPerLeaf: 4 },
  'fat-tree': { k: 4 },
} as const;

/** address-plan limits: a /24 per host-facing switch, pods inside 10.0-254.x.x */
const MAX_STAR_HOSTS = 254;
const MAX_K = 64;
const EVEN_K = `an even integer in 2..${MAX_K}`;

/**
 * All keys are accepted whatever the kind, because the contract's example lists them all side
 * by side; the ones the kind does not use are ignored, except `hosts`, which must then agree
 * with the host count the kind's own keys give (a mismatch means the file says two things).
 */
const TopologySchema = z
  .strictObject({
    kind: oneOf(TOPOLOGY_KINDS).describe('the generator: one switch, two tiers, or a three-tier k-ary fat tree'),
    hosts: int(1)
      .optional()
      .describe(`star: its hosts, at most ${MAX_STAR_HOSTS} (default ${TOPOLOGY_DEFAULTS.star.hosts}); other kinds: may be left out, or must equal the count they give`),
    leaves: int(1, 256).optional().describe(`leaf-spine: leaf switches (default ${TOPOLOGY_DEFAULTS['leaf-spine'].leaves})`),
    spines: int(1, 256).optional().describe(`leaf-spine: spine switches, each linked to every leaf (default ${TOPOLOGY_DEFAULTS['leaf-spine'].spines})`),
    hostsPerLeaf: int(1, 254).optional().describe(`leaf-spine: hosts under each leaf (default ${TOPOLOGY_DEFAULTS['leaf-spine'].hostsPerLeaf})`),
    k: z
      .int({ error: EVEN_K })
      .min(2, { error: EVEN_K })
      .max(MAX_K, { error: EVEN_K })
      .multipleOf(2, { error: EVEN_K })
      .optional()
      .describe(`fat-tree: ports per switch, even; k^3/4 hosts, (k/2)^2 core switches (default ${TOPOLOGY_DEFAULTS['fat-tree'].k})`),
  })
  .transform((t, ctx): TopologySpec => {
    let spec: TopologySpec;
    let derivedHosts: number;
    if (t.kind === 'star') {
      spec = { kind: 'star', hosts: t.hosts ?? TOPOLOGY_DEFAULTS.star.hosts };
      if (spec.hosts > MAX_STAR_HOSTS) {
        ctx.addIssue({ code: 'custom', path: ['hosts'], message: `an integer in 1..${MAX_STAR_HOSTS} for a star`, input: t.hosts });
      }
      return spec;
    }
    if (t.kind === 'leaf-spine') {
      const d = TOPOLOGY_DEFAULTS['leaf-spine'];
      spec = { kind: 'leaf-spine', leaves: t.leaves ?? d.leaves, spines: t.spines ?? d.spines, hostsPerLeaf: t.hostsPerLeaf ?? d.hostsPerLeaf };
      derivedHosts = spec.leaves * spec.hostsPerLeaf;
    } else {
      spec = { kind: 'fat-tree', k: t.k ?? TOPOLOGY_DEFAULTS['fat-tree'].k };
      derivedHosts = spec.k ** 3 / 4;
    }
    if (t.hosts !== undefined && t.hosts !== derivedHosts) {
      const why = spec.kind === 'leaf-spine' ? `leaves × hostsPerLeaf = ${spec.leaves} × ${spec.hostsPerLeaf}` : `k^3/4 with k = ${spec.k}`;
      ctx.addIssue({
        code: 'custom',
        path: ['hosts'],
        message: `${derivedHosts} (${why})`,
        input: t.hosts,
        params: { hint: 'hosts sizes a star; for other kinds it may be left out, or must agree' },
      });
    }
    return spec;
  });

// ---- links ---------------------------------------------------------------------------------

const LINK_MEANINGS = {
  rateGbps: 'line rate of each direction, Gbit/s; 0 = unshaped (as fast as the process goes)',
  delayUs: 'one-way propagation delay, µs',
  jitterUs: 'extra delay per frame, uniform in [0, jitterUs) µs; never reorders on its own',
  lossRate: 'probability that a frame is lost, each direction',
  reorderRate: 'probability that a frame waits for the next one to pass it',
  duplicateRate: 'probability that a frame is delivered twice',
  queueBytes: 'egress queue of each direction, tail drop',
  ecnThresholdBytes: 'queue depth above which ECN-capable frames are marked CE; 0 = no marking',
} as const;

const linkFields = {
  rateGbps: atLeastZero(),
  delayUs: atLeastZero(),
  jitterUs: atLeastZero(),
  lossRate: rate(),
  reorderRate: rate(),
  duplicateRate: rate(),
  queueBytes: byteSize(1),
  ecnThresholdBytes: byteSize(0),
};

/** What a link is when the file says nothing: the link emulation's own defaults. */
export const LINK_DEFAULTS = DEFAULT_LINK;

const NODE_PAIR = 'a list of two node names, like [leaf0, spine1]';

const LinkOverrideSchema = z
  .strictObject({
    between: z
      .tuple([z.string({ error: 'a node name' }).min(1, { error: 'a node name' }), z.string({ error: 'a node name' }).min(1, { error: 'a node name' })], {
        error: NODE_PAIR,
      })
      .describe('the two nodes the link joins, either order'),
    rateGbps: linkFields.rateGbps.optional().describe(LINK_MEANINGS.rateGbps),
    delayUs: linkFields.delayUs.optional().describe(LINK_MEANINGS.delayUs),
    jitterUs: linkFields.jitterUs.optional().describe(LINK_MEANINGS.jitterUs),
    lossRate: linkFields.lossRate.optional().describe(LINK_MEANINGS.lossRate),
    reorderRate: linkFields.reorderRate.optional().describe(LINK_MEANINGS.reorderRate),
    duplicateRate: linkFields.duplicateRate.optional().describe(LINK_MEANINGS.duplicateRate),
    queueBytes: linkFields.queueBytes.optional().describe(LINK_MEANINGS.queueBytes),
    ecnThresholdBytes: linkFields.ecnThresholdBytes.optional().describe(LINK_MEANINGS.ecnThresholdBytes),
    down: z
      .boolean({ error: 'true or false' })
      .optional()
      .describe('the link is cut: wired, but no route uses it (asymmetric-fabric studies); switch-to-switch links only'),
  })
  .superRefine((o, ctx) => {
    // An override that sets nothing is almost certainly a mis-indented block.
    if (Object.entries(o).every(([key, value]) => key === 'between' || value === undefined)) {
      ctx.addIssue({ code: 'custom', message: `a link setting besides between (${[...Object.keys(linkFields), 'down'].join(', ')})`, input: o });
    }
  });

const LinksSchema = z.strictObject({
  rateGbps: linkFields.rateGbps.default(LINK_DEFAULTS.rateGbps).describe(LINK_MEANINGS.rateGbps),
  delayUs: linkFields.delayUs.default(LINK_DEFAULTS.delayUs).describe(LINK_MEANINGS.delayUs),
  jitterUs: linkFields.jitterUs.default(LINK_DEFAULTS.jitterUs).describe(LINK_MEANINGS.jitterUs),
  lossRate: linkFields.lossRate.default(LINK_DEFAULTS.lossRate).describe(LINK_MEANINGS.lossRate),
  reorderRate: linkFields.reorderRate.default(LINK_DEFAULTS.reorderRate).describe(LINK_MEANINGS.reorderRate),
  duplicateRate: linkFields.duplicateRate.default(LINK_DEFAULTS.duplicateRate).describe(LINK_MEANINGS.duplicateRate),
  queueBytes: linkFields.queueBytes.default(LINK_DEFAULTS.queueBytes).describe(LINK_MEANINGS.queueBytes),
  ecnThresholdBytes: linkFields.ecnThresholdBytes.default(LINK_DEFAULTS.ecnThresholdBytes).describe(LINK_MEANINGS.ecnThresholdBytes),
  overrides: z
    .array(LinkOverrideSchema, { error: 'a list of overrides' })
    .default([])
    .describe('settings for single links, applied in order to the link joining `between`; later ones win'),
});

// ---- switches ------------------------------------------------------------------------------

const SwitchesSchema = z.strictObject({
  loadBalancing: LoadBalancingSchema.default('ecmp').describe('how switches spread traffic over equal-cost paths: per flow (ecmp), per flowlet, per packet (drill), congestion-aware (conga)'),
  flowletGapUs: positive().default(100).describe('flowlet: an idle gap this long (µs) starts a new flowlet, which may take another path'),
  drill: z
    .strictObject({
      d: int(1).default(2).describe('DRILL: random ports sampled per packet'),
      m: int(0).default(1).describe('DRILL: least-loaded ports remembered from the last packet'),
    })
    .prefault({})
    .describe('DRILL(d, m) parameters'),
  aggregation: z
    .strictObject({
      slots: int(1).default(512).describe('aggregator slots per switch (each holds one packet of partial sums), shared by the jobs on it'),
      elementsPerPacket: z
        .literal(ELEMENTS_PER_PACKET, { error: `one of ${ELEMENTS_PER_PACKET.join(', ')}` })
        .default(64)
        .describe('tensor elements per aggregation packet (and per slot)'),
    })
    .prefault({})
    .describe('in-network aggregation (switchml, sharp)'),
});

// ---- workloads -----------------------------------------------------------------------------

/** every workload may be named (for the report) and grouped (same group = run concurrently) */
const common = {
  name: z.string({ error: 'a string' }).min(1, { error: 'a non-empty string' }).optional().describe('a name for the report and table'),
  group: z
    .string({ error: 'a string' })
    .min(1, { error: 'a non-empty string' })
    .optional()
    .describe('consecutive workloads of the same group run concurrently (several jobs at once)'),
};

const PingallSchema = z.strictObject({
  kind: z.literal('pingall').describe('every host pings every other host; RTTs and losses'),
  ...common,
  count: int(1).default(3).describe('pings per ordered pair of hosts'),
});

const AllreduceSchema = z
  .strictObject({
    kind: z.literal('allreduce').describe('gradient all-reduce among the workers, one run per algorithm'),
    ...common,
    algorithms: uniqueList(oneOf(ALLREDUCE_ALGORITHMS), `algorithms (${ALLREDUCE_ALGORITHMS.join(', ')})`)
      .default(['ring', 'switchml'])
      .describe('one run each: ring (hosts only, the baseline), switchml (one switch aggregates), sharp (a tree of switches)'),
    bytes: byteSize(1).default(4 * 2 ** 20).describe('tensor size per worker, whole elements of dtype'),
    dtype: oneOf(DTYPES).default('float32').describe('element type: int32 sums exactly, float32 within a stated error bound'),
    iterations: int(1).default(3).describe('all-reduces per run (the report gives each time and their median)'),
    workers: HostSelectorSchema.default('all').describe(`the hosts taking part: ${HOST_SELECTOR}`),
  })
  .superRefine((w, ctx) => {
    const size = DTYPE_BYTES[w.dtype];
    if (w.bytes % size !== 0) {
      ctx.addIssue({ code: 'custom', path: ['bytes'], message: `a multiple of ${size} bytes (whole ${w.dtype} elements)`, input: w.bytes });
    }
  });

/** The moe workload's defaults (the workload fills them in too, for specs built in code). */
const MoeSchema = z
  .strictObject({
    kind: z.literal('moe').describe('Mixture-of-Experts token dispatch and combine (all-to-all), one run per load-balancing scheme'),
    ...common,
    tokensPerRank: int(1).default(MOE_DEFAULTS.tokensPerRank).describe('tokens each rank routes per step'),
    hidden: int(1).default(MOE_DEFAULTS.hidden).describe('elements per token (float32)'),
    experts: int(1).default(MOE_DEFAULTS.experts).describe('experts, spread evenly over the ranks'),
    topK: int(1).default(MOE_DEFAULTS.topK).describe('experts each token is sent to, at most experts'),
    capacityFactor: z
      .number({ error: 'a number > 0, or null for dropless' })
      .positive({ error: 'a number > 0, or null for dropless' })
      .nullable()
      .default(MOE_DEFAULTS.capacityFactor)
      .describe('tokens an expert takes from each rank: ⌈capacityFactor × tokensPerRank × topK / experts⌉; null (or left out) = dropless'),
    dropPolicy: oneOf(DROP_POLICIES).default(MOE_DEFAULTS.dropPolicy).describe('which tokens an over-capacity expert keeps: highest router probability, or first come'),
    skew: atLeastZero().default(MOE_DEFAULTS.skew).describe('Zipf exponent of expert popularity; 0 = uniform'),
    ranks: HostSelectorSchema.default('all').describe(`the hosts taking part: ${HOST_SELECTOR}`),
    loadBalancing: uniqueList(LoadBalancingSchema, `load balancers (${LOAD_BALANCERS.join(', ')})`)
      .optional()
      .describe('load-balancing schemes to compare, one run each; default [switches.loadBalancing]'),
  })
  .superRefine((w, ctx) => {
    if (w.topK > w.experts) ctx.addIssue({ code: 'custom', path: ['topK'], message: `an integer in 1..${w.experts} (experts)`, input: w.topK });
  });

const FlowsSchema = z.strictObject({
  kind: z.literal('flows').describe('flows between hosts with sizes from a trace distribution; flow completion times per load-balancing scheme'),
  ...common,
  distribution: oneOf(FLOW_DISTRIBUTIONS).default('websearch').describe('flow sizes: the WebSearch or DataMining trace distributions, or all sizeBytes'),
  sizeBytes: byteSize(1).default(2 ** 20).describe('the size of every flow (fixed distribution only)'),
  load: z
    .number({ error: 'a number in (0, 1]' })
    .positive({ error: 'a number in (0, 1]' })
    .max(1, { error: 'a number in (0, 1]' })
    .default(0.6)
    .describe('offered load as a fraction of the host link rate (Poisson arrivals)'),
  count: int(1).default(1000).describe('flows in the run'),
  pattern: oneOf(FLOW_PATTERNS).default('all-to-all').describe('who sends to whom: any pair, a random permutation, or many senders to one receiver'),
  sizeScale: z
    .number({ error: 'a number in (0, 1]' })
    .positive({ error: 'a number in (0, 1]' })
    .max(1, { error: 'a number in (0, 1]' })
    .optional()
    .describe('every drawn flow size is multiplied by this (sim budgets); size bins use the unscaled size; left out = 1'),
  loadBalancing: uniqueList(LoadBalancingSchema, `load balancers (${LOAD_BALANCERS.join(', ')})`)
    .optional()
    .describe('load-balancing schemes to compare, one run each; default [switches.loadBalancing]'),
});

const WorkloadSchema = z.discriminatedUnion('kind', [PingallSchema, AllreduceSchema, MoeSchema, FlowsSchema], {
  error: (iss) => (iss.code === 'invalid_union' ? `one of ${WORKLOAD_KINDS.join(', ')}` : `a workload (a mapping with a kind: ${WORKLOAD_KINDS.join(', ')})`),
});

// ---- the whole file ------------------------------------------------------------------------

export const ScenarioSchema = z
  .strictObject({
    name: z
      .string({ error: 'a scenario name (a non-empty string)' })
      .min(1, { error: 'a scenario name (a non-empty string)' })
      .describe('the scenario\'s name, in the report and the table'),
    mode: oneOf(MODES).default('udp').describe('udp: real datagrams between the switches on loopback; sim: deterministic virtual time (the same report for the same seed)'),
    seed: int(0, 2 ** 32 - 1).default(1).describe('seeds every random choice: tensors, losses, hashes, flow arrivals'),
    topology: TopologySchema.prefault({ kind: 'star' }).describe('the fabric; node names in the README'),
    links: LinksSchema.prefault({}).describe('settings of every link, then overrides for single links'),
    switches: SwitchesSchema.prefault({}).describe('what the switches run'),
    workloads: z
      .array(WorkloadSchema, { error: 'a list of workloads' })
      .default([])
      .describe('run in order; consecutive entries with the same group run concurrently'),
  })
  .transform((s) => ({
    ...s,
    // Filled here, not left to each runner: the comparison list is part of what the file means.
    workloads: s.workloads.map((w) =>
      w.kind === 'moe' || w.kind === 'flows' ? { ...w, loadBalancing: w.loadBalancing ?? [s.switches.loadBalancing] } : w,
    ),
  }));

// ---- types, defaults filled in ---------------------------------------------------------------

export type Scenario = z.output<typeof ScenarioSchema>;
/** what may be written in a file, before defaults */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Mode = (typeof MODES)[number];
export type LoadBalancing = (typeof LOAD_BALANCERS)[number];
export type AllreduceAlgorithm = (typeof ALLREDUCE_ALGORITHMS)[number];
export type Dtype = (typeof DTYPES)[number];
export type TopologySection = Scenario['topology'];
export type LinksSection = Scenario['links'];
export type LinkOverride = LinksSection['overrides'][number];
export type LinkSettings = Omit<LinksSection, 'overrides'>;
export type SwitchSettings = Scenario['switches'];
export type HostSelector = z.output<typeof HostSelectorSchema>;
export type Workload = Scenario['workloads'][number];
export type WorkloadKind = Workload['kind'];
export type PingallWorkload = Extract<Workload, { kind: 'pingall' }>;
export type AllreduceWorkload = Extract<Workload, { kind: 'allreduce' }>;
export type MoeWorkload = Extract<Workload, { kind: 'moe' }>;
export type FlowsWorkload = Extract<Workload, { kind: 'flows' }>;
