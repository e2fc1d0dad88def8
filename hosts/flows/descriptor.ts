import { z } from 'zod';
import { defineWorkloadDescriptor } from '../../src/manifest/descriptor.js';
import { byteSize, commonWorkloadFields, int, oneOf } from '../../src/manifest/fields.js';
import { flowsTable } from '../../src/report/flows-table.js';

export const FLOW_DISTRIBUTIONS = ['websearch', 'datamining', 'fixed'] as const;
export const FLOW_PATTERNS = ['all-to-all', 'permutation', 'incast'] as const;

/** Flows with trace-drawn sizes, FCT per load-balancing scheme (hosts/flows/flows.ts). */
export const flows = defineWorkloadDescriptor({
  kind: 'flows',
  schema: ({ schemeList }) =>
    z.strictObject({
      kind: z.literal('flows').describe('flows between hosts with sizes from a trace distribution; flow completion times per load-balancing scheme'),
      ...commonWorkloadFields,
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
      loadBalancing: schemeList,
    }),
  check: (w, topo) =>
    topo.hosts.length < 2 ? [{ path: ['kind'], expected: 'a topology with at least 2 hosts for flows', input: w.kind, hint: `it has ${topo.hosts.length}` }] : [],
  comparesSchemes: true,
  table: flowsTable,
  load: async () => (await import('./flows.js')).default,
});
