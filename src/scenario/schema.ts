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
 * The `switches` keys and the workload kinds are not written here: each program and workload
 * declares its own (its descriptor, src/manifest/descriptor.ts) and the schema is built from a
 * manifest of them (the shipped one: src/manifest/builtin.ts).
 *
 * Checks that need the built topology (node names exist, N workers fit) live in checks.ts.
 */
import { DEFAULT_LINK } from '../net/link-shaper.js';
import { z } from 'zod';
import type { TopologySpec } from '../topology/types.js';
import { atLeastZero, byteSize, int, oneOf, rate, uniqueList } from '../manifest/fields.js';
import type { Manifest } from '../manifest/manifest.js';
import { BUILTIN_PROGRAMS, BUILTIN_WORKLOADS, MANIFEST } from '../manifest/builtin.js';

export type { HostSelector } from '../manifest/fields.js';

// ---- enumerations --------------------------------------------------------------------------

export const MODES = ['udp', 'sim'] as const;
export const TOPOLOGY_KINDS = ['star', 'leaf-spine', 'fat-tree'] as const;

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

// ---- switches and workloads: from the manifest -------------------------------------------

function switchesSchema(m: Manifest, loadBalancing: z.ZodType<string>) {
  const spreads = m.loadBalancers.map((name) => m.program(name)!.spreads!).join(', ');
  return z.strictObject({
    loadBalancing: loadBalancing.default(m.loadBalancers[0]).describe(`how switches spread traffic over equal-cost paths: ${spreads}`),
    ...m.switchOptions,
  });
}

function workloadSchema(m: Manifest, loadBalancing: z.ZodType<string>) {
  const kinds = m.workloads.map((w) => w.kind);
  const schemeList = uniqueList(loadBalancing, `load balancers (${m.loadBalancers.join(', ')})`)
    .optional()
    .describe('load-balancing schemes to compare, one run each; default [switches.loadBalancing]');
  const options = m.workloads.map((w) => w.schema({ loadBalancing, loadBalancers: m.loadBalancers, schemeList }));
  return z.discriminatedUnion('kind', options as unknown as [z.ZodObject, ...z.ZodObject[]], {
    error: (iss) => (iss.code === 'invalid_union' ? `one of ${kinds.join(', ')}` : `a workload (a mapping with a kind: ${kinds.join(', ')})`),
  });
}

/** The scenario format for the programs and workloads of `m`. */
export function scenarioSchema(m: Manifest) {
  const loadBalancing = oneOf(m.loadBalancers);
  const comparing = new Set(m.workloads.filter((w) => w.comparesSchemes).map((w) => w.kind));
  return z
    .strictObject({
      name: z
        .string({ error: 'a scenario name (a non-empty string)' })
        .min(1, { error: 'a scenario name (a non-empty string)' })
        .describe('the scenario\'s name, in the report and the table'),
      mode: oneOf(MODES).default('udp').describe('udp: real datagrams between the switches on loopback; sim: deterministic virtual time (the same report for the same seed)'),
      seed: int(0, 2 ** 32 - 1).default(1).describe('seeds every random choice: tensors, losses, hashes, flow arrivals'),
      topology: TopologySchema.prefault({ kind: 'star' }).describe('the fabric; node names in the README'),
      links: LinksSchema.prefault({}).describe('settings of every link, then overrides for single links'),
      switches: switchesSchema(m, loadBalancing).prefault({}).describe('what the switches run'),
      workloads: z
        .array(workloadSchema(m, loadBalancing), { error: 'a list of workloads' })
        .default([])
        .describe('run in order; consecutive entries with the same group run concurrently'),
    })
    .transform((s) => ({
      ...s,
      // Filled here, not left to each runner: the comparison list is part of what the file means.
      workloads: s.workloads.map((w) =>
        comparing.has(w.kind as string) ? { ...w, loadBalancing: (w as { loadBalancing?: string[] }).loadBalancing ?? [s.switches.loadBalancing] } : w,
      ),
    }));
}

// ---- the shipped format, with its types ----------------------------------------------------

type SwitchOptionsOf<P> = P extends { switchOptions: infer O } ? O : never;
type BuiltinSwitchOptions = UnionToIntersection<SwitchOptionsOf<(typeof BUILTIN_PROGRAMS)[number]>>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type WorkloadSchemaOf<D> = D extends { schema(f: never): infer S } ? S : never;
type BuiltinWorkloadSchema = WorkloadSchemaOf<(typeof BUILTIN_WORKLOADS)[number]>;
/** a comparing workload's `loadBalancing`, filled in */
type Filled<W> = W extends { loadBalancing?: infer L } ? Omit<W, 'loadBalancing'> & { loadBalancing: NonNullable<L> } : W;
type OutputOf<F> = { -readonly [K in keyof F]: F[K] extends z.ZodType ? z.output<F[K]> : never };
type InputOf<F> = { -readonly [K in keyof F]?: F[K] extends z.ZodType ? z.input<F[K]> : never };

interface ScenarioOutput {
  name: string;
  mode: Mode;
  seed: number;
  topology: TopologySpec;
  links: z.output<typeof LinksSchema>;
  switches: { loadBalancing: LoadBalancing } & OutputOf<BuiltinSwitchOptions>;
  workloads: Array<Filled<z.output<BuiltinWorkloadSchema>>>;
}
interface ScenarioInputShape {
  name: string;
  mode?: Mode;
  seed?: number;
  topology?: z.input<typeof TopologySchema>;
  links?: z.input<typeof LinksSchema>;
  switches?: { loadBalancing?: LoadBalancing } & InputOf<BuiltinSwitchOptions>;
  workloads?: Array<z.input<BuiltinWorkloadSchema>>;
}

/** The shipped scenario format (`ina schema`, the README reference). */
export const ScenarioSchema = scenarioSchema(MANIFEST) as unknown as z.ZodType<ScenarioOutput, ScenarioInputShape>;

// ---- types, defaults filled in ---------------------------------------------------------------

export type Scenario = ScenarioOutput;
/** what may be written in a file, before defaults */
export type ScenarioInput = ScenarioInputShape;
export type Mode = (typeof MODES)[number];
export type LoadBalancing = (typeof BUILTIN_PROGRAMS)[number] extends infer P ? (P extends { spreads: string; name: infer N } ? N : never) : never;
export type AllreduceAlgorithm = AllreduceWorkload['algorithms'][number];
export type Dtype = AllreduceWorkload['dtype'];
export type TopologySection = Scenario['topology'];
export type LinksSection = Scenario['links'];
export type LinkOverride = LinksSection['overrides'][number];
export type LinkSettings = Omit<LinksSection, 'overrides'>;
export type SwitchSettings = Scenario['switches'];
export type Workload = Scenario['workloads'][number];
export type WorkloadKind = Workload['kind'];
export type PingallWorkload = Extract<Workload, { kind: 'pingall' }>;
export type AllreduceWorkload = Extract<Workload, { kind: 'allreduce' }>;
export type MoeWorkload = Extract<Workload, { kind: 'moe' }>;
export type FlowsWorkload = Extract<Workload, { kind: 'flows' }>;
