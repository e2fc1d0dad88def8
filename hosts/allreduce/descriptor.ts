import { z } from 'zod';
import { defineWorkloadDescriptor } from '../../src/manifest/descriptor.js';
import { byteSize, commonWorkloadFields, HOST_SELECTOR, HostSelectorSchema, int, oneOf, uniqueList } from '../../src/manifest/fields.js';
import { allreduceTable } from '../../src/report/allreduce-table.js';

export const ALLREDUCE_ALGORITHMS = ['ring', 'switchml', 'sharp'] as const;
export const DTYPES = ['float32', 'int32'] as const;
/** bytes per element of each dtype, so `bytes` can be checked to hold whole elements */
export const DTYPE_BYTES = { float32: 4, int32: 4 } as const;
/** ring runs on the hosts alone; the other algorithms need a switch program serving them */
const HOSTS_ONLY = new Set<string>(['ring']);

/** Gradient all-reduce, one run per algorithm (hosts/allreduce/allreduce.ts). */
export const allreduce = defineWorkloadDescriptor({
  kind: 'allreduce',
  schema: () =>
    z
      .strictObject({
        kind: z.literal('allreduce').describe('gradient all-reduce among the workers, one run per algorithm'),
        ...commonWorkloadFields,
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
      }),
  hosts: { key: 'workers', min: 2 },
  needs: (w) => w.algorithms.filter((a) => !HOSTS_ONLY.has(a)),
  table: allreduceTable,
  load: async () => (await import('./allreduce.js')).default,
});
