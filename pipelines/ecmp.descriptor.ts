import { defineProgramDescriptor } from '../src/manifest/descriptor.js';

/** ECMP (ecmp.ts): the default `switches.loadBalancing`. */
export const ecmp = defineProgramDescriptor({
  name: 'ecmp',
  spreads: 'per flow (ecmp)',
  load: async () => (await import('./ecmp.js')).default,
});
