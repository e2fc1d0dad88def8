import { defineProgramDescriptor } from '../src/manifest/descriptor.js';
import { positive } from '../src/manifest/fields.js';
import { DEFAULT_FLOWLET_GAP_US } from './lib/load-balancing.js';

/** `switches.flowletGapUs`, read by every scheme with a flowlet table (flowlet, conga). */
export const flowletOptions = {
  flowletGapUs: positive()
    .default(DEFAULT_FLOWLET_GAP_US)
    .describe('flowlet: an idle gap this long (µs) starts a new flowlet, which may take another path'),
};

/** LetFlow flowlet switching (flowlet.ts). */
export const flowlet = defineProgramDescriptor({
  name: 'flowlet',
  spreads: 'per flowlet',
  switchOptions: flowletOptions,
  load: async () => (await import('./flowlet.js')).default,
});
