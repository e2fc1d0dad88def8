import { defineProgramDescriptor } from '../src/manifest/descriptor.js';

/** Plain L3 forwarding (l3.ts): not a load-balancing choice, a baseline for tests and benches. */
export const l3 = defineProgramDescriptor({
  name: 'l3',
  load: async () => (await import('./l3.js')).default,
});
