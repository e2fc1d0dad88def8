import { z } from 'zod';
import { defineWorkloadDescriptor } from '../../src/manifest/descriptor.js';
import { commonWorkloadFields, int } from '../../src/manifest/fields.js';
import { pingallTable } from '../../src/report/pingall-table.js';

/** Every host pings every other host (hosts/pingall/pingall.ts). */
export const pingall = defineWorkloadDescriptor({
  kind: 'pingall',
  schema: () =>
    z.strictObject({
      kind: z.literal('pingall').describe('every host pings every other host; RTTs and losses'),
      ...commonWorkloadFields,
      count: int(1).default(3).describe('pings per ordered pair of hosts'),
    }),
  table: pingallTable,
  load: async () => (await import('./pingall.js')).default,
});
