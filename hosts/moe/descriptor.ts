import { z } from 'zod';
import { defineWorkloadDescriptor } from '../../src/manifest/descriptor.js';
import { atLeastZero, commonWorkloadFields, HOST_SELECTOR, HostSelectorSchema, int, oneOf } from '../../src/manifest/fields.js';
import { moeTable } from '../../src/report/moe-table.js';
import { MOE_DEFAULTS } from '../../src/wire/moe.js';

export const DROP_POLICIES = ['probs', 'position'] as const;

/** Mixture-of-Experts dispatch and combine, one run per load-balancing scheme (hosts/moe/moe.ts). */
export const moe = defineWorkloadDescriptor({
  kind: 'moe',
  schema: ({ schemeList }) =>
    z
      .strictObject({
        kind: z.literal('moe').describe('Mixture-of-Experts token dispatch and combine (all-to-all), one run per load-balancing scheme'),
        ...commonWorkloadFields,
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
        loadBalancing: schemeList,
      })
      .superRefine((w, ctx) => {
        if (w.topK > w.experts) ctx.addIssue({ code: 'custom', path: ['topK'], message: `an integer in 1..${w.experts} (experts)`, input: w.topK });
      }),
  hosts: { key: 'ranks', min: 1 },
  comparesSchemes: true,
  table: moeTable,
  load: async () => (await import('./moe.js')).default,
});
