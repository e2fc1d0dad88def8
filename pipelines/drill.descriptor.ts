import { z } from 'zod';
import { defineProgramDescriptor } from '../src/manifest/descriptor.js';
import { int } from '../src/manifest/fields.js';
import { DRILL_DEFAULTS } from './lib/load-balancing.js';

/** DRILL(d, m) per-packet least-loaded choice (drill.ts). */
export const drill = defineProgramDescriptor({
  name: 'drill',
  spreads: 'per packet (drill)',
  switchOptions: {
    drill: z
      .strictObject({
        d: int(1).default(DRILL_DEFAULTS.d).describe('DRILL: random ports sampled per packet'),
        m: int(0).default(DRILL_DEFAULTS.m).describe('DRILL: least-loaded ports remembered from the last packet'),
      })
      .prefault({})
      .describe('DRILL(d, m) parameters'),
  },
  load: async () => (await import('./drill.js')).default,
});
