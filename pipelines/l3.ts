import { defineProgram } from '../src/pipeline/program.js';
import { declareCommonHeader, decrementTtl, verifyCommonHeader } from '../src/pipeline/common-header.js';
import { readU32 } from '../src/wire/bytes.js';
import { OFF_DST } from '../src/wire/common-header.js';

/**
 * Plain L3 forwarding: longest-prefix match on the destination node address, one next hop
 * per route, TTL decremented (a frame whose TTL runs out is dropped).
 */
export default defineProgram<Record<string, never>>({
  name: 'l3',
  description: 'LPM routing on the destination address, single next hop',
  metadata: () => ({}),
  resetMetadata: () => {},
  build(p) {
    const common = declareCommonHeader(p);
    p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
    const forward = p.action('forward', [{ name: 'port', width: 16 }], (pkt, params) => {
      if (decrementTtl(pkt.buf)) pkt.sendToPort(params[0]!);
      else pkt.markToDrop();
    });
    const drop = p.action('drop', [], (pkt) => pkt.markToDrop());
    const routes = p.table({
      name: 'ipv4_lpm',
      keys: [{ name: 'hdr.common.dst', match: 'lpm', width: 32, read: (pkt) => readU32(pkt.buf, OFF_DST) }],
      actions: [forward, drop],
      defaultAction: drop,
      size: 16384,
      directCounter: false,
    });
    return {
      ingress(pkt) {
        routes.apply(pkt);
      },
    };
  },
});
