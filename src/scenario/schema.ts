/**
 * The scenario file format (CONTRACT.md, "Scenario file") as one zod schema.
 *
 * Conventions that load.ts relies on:
 *  - every object is strict: an unknown key is an error, because a typo (`hostPerLeaf`) that
 *    silently falls back to a default is the worst kind of wrong result;
 *  - every message a schema here sets is the phrase that follows "expected" (load.ts composes
 *    `KEYPATH: expected PHRASE, got VALUE`);
 *  - the output has every default filled in, so consumers never re-derive a default.
 *
 * Checks that need the built topology (node names exist, N workers fit) live in checks.ts.
 */
import { DEFAULT_LINK } from '../net/link-shaper.js';
import { z } from 'zod';
import { BYTE_SIZE_EXPECTED, ByteSizeError, parseByteSize } from './byte-size.js';
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
  return z.unknown().transform((input, ctx) => {
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
    kind: oneOf(TOPOLOGY_KINDS),
    hosts: int(1).optional(),
    leaves: int(1, 256).optional(),
    spines: int(1, 256).optional(),
    hostsPerLeaf: int(1, 254).optional(),
    k: z.int({ error: EVEN_K }).min(2, { error: EVEN_K }).max(MAX_K, { error: EVEN_K }).multipleOf(2, { error: EVEN_K }).optional(),
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

const linkFields = {
  /** 0 = unshaped */
  rateGbps: atLeastZero(),
  delayUs: atLeastZero(),
  jitterUs: atLeastZero(),
  /** per packet, each direction */
  lossRate: rate(),
  reorderRate: rate(),
  duplicateRate: rate(),
  /** egress queue, tail drop */
  queueBytes: byteSize(1),
  /** 0 = no ECN marking */
  ecnThresholdBytes: byteSize(0),
};

/** What a link is when the file says nothing: the link emulation's own defaults. */
export const LINK_DEFAULTS = DEFAULT_LINK;

const NODE_PAIR = 'a list of two node names, like [leaf0, spine1]';

const LinkOverrideSchema = z
  .strictObject({
    between: z.tuple([z.string({ error: 'a node name' }).min(1, { error: 'a node name' }), z.string({ error: 'a node name' }).min(1, { error: 'a node name' })], {
      error: NODE_PAIR,
    }),
    rateGbps: linkFields.rateGbps.optional(),
    delayUs: linkFields.delayUs.optional(),
    jitterUs: linkFields.jitterUs.optional(),
    lossRate: linkFields.lossRate.optional(),
    reorderRate: linkFields.reorderRate.optional(),
    duplicateRate: linkFields.duplicateRate.optional(),
    queueBytes: linkFields.queueBytes.optional(),
    ecnThresholdBytes: linkFields.ecnThresholdBytes.optional(),
    /** the link is cut: no route uses it (for asymmetric-fabric studies); switch-to-switch only */
    down: z.boolean({ error: 'true or false' }).optional(),
  })
  .superRefine((o, ctx) => {
    // An override that sets nothing is almost certainly a mis-indented block.
    if (Object.entries(o).every(([key, value]) => key === 'between' || value === undefined)) {
      ctx.addIssue({ code: 'custom', message: `a link setting besides between (${[...Object.keys(linkFields), 'down'].join(', ')})`, input: o });
    }
  });

const LinksSchema = z.strictObject({
  rateGbps: linkFields.rateGbps.default(LINK_DEFAULTS.rateGbps),
  delayUs: linkFields.delayUs.default(LINK_DEFAULTS.delayUs),
  jitterUs: linkFields.jitterUs.default(LINK_DEFAULTS.jitterUs),
  lossRate: linkFields.lossRate.default(LINK_DEFAULTS.lossRate),
  reorderRate: linkFields.reorderRate.default(LINK_DEFAULTS.reorderRate),
  duplicateRate: linkFields.duplicateRate.default(LINK_DEFAULTS.duplicateRate),
  queueBytes: linkFields.queueBytes.default(LINK_DEFAULTS.queueBytes),
  ecnThresholdBytes: linkFields.ecnThresholdBytes.default(LINK_DEFAULTS.ecnThresholdBytes),
  /** applied in order to the link joining `between` (either direction); later ones win */
  overrides: z.array(LinkOverrideSchema, { error: 'a list of overrides' }).default([]),
});

// ---- switches ------------------------------------------------------------------------------

const SwitchesSchema = z.strictObject({
  loadBalancing: LoadBalancingSchema.default('ecmp'),
  flowletGapUs: positive().default(100),
  drill: z
    .strictObject({
      /** random ports sampled per packet */
      d: int(1).default(2),
      /** least-loaded ports remembered from last time */
      m: int(0).default(1),
    })
    .prefault({}),
  aggregation: z
    .strictObject({
      slots: int(1).default(512),
      elementsPerPacket: z.literal(ELEMENTS_PER_PACKET, { error: `one of ${ELEMENTS_PER_PACKET.join(', ')}` }).default(64),
    })
    .prefault({}),
});

// ---- workloads -----------------------------------------------------------------------------

/** every workload may be named (for the report) and grouped (same group = run concurrently) */
const common = {
  name: z.string({ error: 'a string' }).min(1, { error: 'a non-empty string' }).optional(),
  group: z.string({ error: 'a string' }).min(1, { error: 'a non-empty string' }).optional(),
};

const PingallSchema = z.strictObject({
  kind: z.literal('pingall'),
  ...common,
  /** pings per ordered pair */
  count: int(1).default(3),
});

const AllreduceSchema = z
  .strictObject({
    kind: z.literal('allreduce'),
    ...common,
    algorithms: uniqueList(oneOf(ALLREDUCE_ALGORITHMS), `algorithms (${ALLREDUCE_ALGORITHMS.join(', ')})`).default(['ring', 'switchml']),
    bytes: byteSize(1).default(4 * 2 ** 20),
    dtype: oneOf(DTYPES).default('float32'),
    iterations: int(1).default(3),
    workers: HostSelectorSchema.default('all'),
  })
  .superRefine((w, ctx) => {
    const size = DTYPE_BYTES[w.dtype];
    if (w.bytes % size !== 0) {
      ctx.addIssue({ code: 'custom', path: ['bytes'], message: `a multiple of ${size} bytes (whole ${w.dtype} elements)`, input: w.bytes });
    }
  });

/** The moe workload's defaults (the workload fills them in too, for specs built in code). */
export const MOE_DEFAULTS = {
  tokensPerRank: 1024,
  hidden: 512,
  experts: 16,
  topK: 2,
  capacityFactor: null,
  dropPolicy: 'probs',
  skew: 1.0,
} as const;

const MoeSchema = z
  .strictObject({
    kind: z.literal('moe'),
    ...common,
    tokensPerRank: int(1).default(MOE_DEFAULTS.tokensPerRank),
    hidden: int(1).default(MOE_DEFAULTS.hidden),
    experts: int(1).default(MOE_DEFAULTS.experts),
    topK: int(1).default(MOE_DEFAULTS.topK),
    /** null (or omitted) = dropless */
    capacityFactor: z
      .number({ error: 'a number > 0, or null for dropless' })
      .positive({ error: 'a number > 0, or null for dropless' })
      .nullable()
      .default(MOE_DEFAULTS.capacityFactor),
    dropPolicy: oneOf(DROP_POLICIES).default(MOE_DEFAULTS.dropPolicy),
    /** Zipf exponent over experts, 0 = uniform */
    skew: atLeastZero().default(MOE_DEFAULTS.skew),
    ranks: HostSelectorSchema.default('all'),
    /** algorithms to compare, one run each; default [switches.loadBalancing] */
    loadBalancing: uniqueList(LoadBalancingSchema, `load balancers (${LOAD_BALANCERS.join(', ')})`).optional(),
  })
  .superRefine((w, ctx) => {
    if (w.topK > w.experts) ctx.addIssue({ code: 'custom', path: ['topK'], message: `an integer in 1..${w.experts} (experts)`, input: w.topK });
  });

const FlowsSchema = z.strictObject({
  kind: z.literal('flows'),
  ...common,
  distribution: oneOf(FLOW_DISTRIBUTIONS).default('websearch'),
  /** used only by the fixed distribution */
  sizeBytes: byteSize(1).default(2 ** 20),
  /** offered load as a fraction of the host link rate */
  load: z
    .number({ error: 'a number in (0, 1]' })
    .positive({ error: 'a number in (0, 1]' })
    .max(1, { error: 'a number in (0, 1]' })
    .default(0.6),
  count: int(1).default(1000),
  pattern: oneOf(FLOW_PATTERNS).default('all-to-all'),
  /** every drawn flow size is multiplied by this (sim budgets); size bins use the unscaled size; omitted = 1 */
  sizeScale: z
    .number({ error: 'a number in (0, 1]' })
    .positive({ error: 'a number in (0, 1]' })
    .max(1, { error: 'a number in (0, 1]' })
    .optional(),
  /** algorithms to compare, one run each; default [switches.loadBalancing] */
  loadBalancing: uniqueList(LoadBalancingSchema, `load balancers (${LOAD_BALANCERS.join(', ')})`).optional(),
});

const WorkloadSchema = z.discriminatedUnion('kind', [PingallSchema, AllreduceSchema, MoeSchema, FlowsSchema], {
  error: (iss) => (iss.code === 'invalid_union' ? `one of ${WORKLOAD_KINDS.join(', ')}` : `a workload (a mapping with a kind: ${WORKLOAD_KINDS.join(', ')})`),
});

// ---- the whole file ------------------------------------------------------------------------

export const ScenarioSchema = z
  .strictObject({
    name: z.string({ error: 'a scenario name (a non-empty string)' }).min(1, { error: 'a scenario name (a non-empty string)' }),
    mode: oneOf(MODES).default('udp'),
    seed: int(0, 2 ** 32 - 1).default(1),
    topology: TopologySchema.prefault({ kind: 'star' }),
    links: LinksSchema.prefault({}),
    switches: SwitchesSchema.prefault({}),
    workloads: z.array(WorkloadSchema, { error: 'a list of workloads' }).default([]),
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
