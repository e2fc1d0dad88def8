import { z } from 'zod';
import { defineProgramDescriptor } from '../src/manifest/descriptor.js';
import { int } from '../src/manifest/fields.js';
import { SML_DEFAULT_ELEMENTS, SML_DEFAULT_SLOTS } from '../src/wire/names/aggregation.js';

/** the packet sizes an aggregation job may use (tensor elements per packet and per slot) */
export const ELEMENTS_PER_PACKET = [64, 256] as const;

/** `switches.aggregation`, read by every aggregation program (switchml, sharp). */
export const aggregationOptions = {
  aggregation: z
    .strictObject({
      slots: int(1)
        .default(SML_DEFAULT_SLOTS)
        .describe('aggregator slots per switch (each holds one packet of partial sums), shared by the jobs on it'),
      elementsPerPacket: z
        .literal(ELEMENTS_PER_PACKET, { error: `one of ${ELEMENTS_PER_PACKET.join(', ')}` })
        .default(SML_DEFAULT_ELEMENTS)
        .describe('tensor elements per aggregation packet (and per slot)'),
    })
    .prefault({})
    .describe('in-network aggregation (switchml, sharp)'),
};

/** SwitchML aggregation + forwarding (switchml.ts): serves the `switchml` all-reduce. */
export const switchml = defineProgramDescriptor({
  name: 'switchml',
  switchOptions: aggregationOptions,
  serves: ['switchml'],
  load: async () => (await import('./switchml.js')).default,
});
