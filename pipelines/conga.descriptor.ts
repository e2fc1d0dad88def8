import { defineProgramDescriptor } from '../src/manifest/descriptor.js';
import { flowletOptions } from './flowlet.descriptor.js';

/** CONGA congestion-aware flowlet choice (conga.ts); its flowlets use flowlet's gap. */
export const conga = defineProgramDescriptor({
  name: 'conga',
  spreads: 'congestion-aware (conga)',
  switchOptions: flowletOptions,
  load: async () => (await import('./conga.js')).default,
});
