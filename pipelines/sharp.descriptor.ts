import { defineProgramDescriptor } from '../src/manifest/descriptor.js';
import { aggregationOptions } from './switchml.descriptor.js';

/** SHARP trees on SwitchML slots (sharp.ts): runs flat switchml jobs too, so it serves both. */
export const sharp = defineProgramDescriptor({
  name: 'sharp',
  switchOptions: aggregationOptions,
  serves: ['switchml', 'sharp'],
  load: async () => (await import('./sharp.js')).default,
});
