import { defineProgram } from '../src/pipeline/program.js';
import { declareCommonHeader, verifyCommonHeader } from '../src/pipeline/common-header.js';
import { declareForwarding } from './lib/forwarding.js';

/**
 * Plain L3 forwarding: longest-prefix match on the destination node address, one next hop
 * per route, TTL decremented (a frame whose TTL runs out is dropped).
 */
export default defineProgram<Record<string, never>>({
  name: 'l3',
  description: 'LPM routing on the destination address, single next hop',
  metadata: () => ({}),
  resetMetadata: () => {},
  copyMetadata: () => ({}),
  build(p) {
    const common = declareCommonHeader(p);
    p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
    const routes = declareForwarding(p, 'l3');
    return {
      ingress(pkt) {
        routes.apply(pkt);
      },
    };
  },
});
