import { defineProgram } from '../../src/pipeline/program.js';
import { declareCommonHeader, verifyCommonHeader } from '../../src/pipeline/common-header.js';
import { readU16 } from '../../src/wire/bytes.js';
import { OFF_DSTPORT } from '../../src/wire/common-header.js';

/** Sends each frame to the port in its dstPort field (0xffff: to port -2); egress records the queue depth. */
export function probeProgram(seenQueue: number[]) {
  return defineProgram<Record<string, never>>({
    name: 'probe',
    description: 'port chosen by the frame',
    metadata: () => ({}),
    build(p) {
      const common = declareCommonHeader(p);
      p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
      return {
        ingress(pkt) {
          const port = readU16(pkt.buf, OFF_DSTPORT);
          pkt.sendToPort(port === 0xffff ? -2 : port);
        },
        egress(pkt) {
          seenQueue.push(pkt.egressQueueBytes);
        },
      };
    },
  });
}
