import { defineProgram } from '../src/pipeline/program.js';
import { declareCommonHeader, decrementTtl, verifyCommonHeader } from '../src/pipeline/common-header.js';
import { readU16, readU32 } from '../src/wire/bytes.js';
import { OFF_DST, OFF_DSTPORT, OFF_PROTOCOL, OFF_SRC, OFF_SRCPORT } from '../src/wire/common-header.js';

/**
 * ECMP: LPM routes point at action-selector groups of equal-cost next hops; the member is
 * picked by a crc32 of the 5-tuple seeded per switch, so that two tiers hashing the same flow
 * do not make correlated choices (hash polarization).
 */
export default defineProgram<Record<string, never>>({
  name: 'ecmp',
  description: 'LPM routing to ECMP groups, 5-tuple crc32 with a per-switch seed',
  metadata: () => ({}),
  resetMetadata: () => {},
  build(p) {
    const common = declareCommonHeader(p);
    p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
    const tuple = new Uint32Array(5);
    const crc = p.hash('crc32');
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
      selector: {
        name: 'ecmp_selector',
        maxGroupSize: 64,
        hash: (pkt) => {
          const b = pkt.buf;
          tuple[0] = readU32(b, OFF_SRC);
          tuple[1] = readU32(b, OFF_DST);
          tuple[2] = readU16(b, OFF_SRCPORT);
          tuple[3] = readU16(b, OFF_DSTPORT);
          tuple[4] = b[OFF_PROTOCOL]!;
          return crc.ofWords(tuple, 5);
        },
      },
    });
    return {
      ingress(pkt) {
        routes.apply(pkt);
      },
    };
  },
});
