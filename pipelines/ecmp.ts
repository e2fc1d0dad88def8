import { defineProgram } from '../src/pipeline/program.js';
import { declareCommonHeader, verifyCommonHeader } from '../src/pipeline/common-header.js';
import { declareForwarding } from './lib/forwarding.js';

/**
 * ECMP: LPM routes point at action-selector groups of equal-cost next hops; the member is
 * picked by a crc32 of the 5-tuple seeded per switch (see lib/forwarding.ts).
 */
export default defineProgram<Record<string, never>>({
  name: 'ecmp',
  description: 'LPM routing to ECMP groups, 5-tuple crc32 with a per-switch seed',
  metadata: () => ({}),
  resetMetadata: () => {},
  copyMetadata: () => ({}),
  build(p) {
    const common = declareCommonHeader(p);
    p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
    const routes = declareForwarding(p, 'ecmp');
    return {
      ingress(pkt) {
        routes.apply(pkt);
      },
    };
  },
});
