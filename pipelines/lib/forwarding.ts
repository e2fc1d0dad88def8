import type { ProgramBuilder } from '../../src/pipeline/program.js';
import type { Packet } from '../../src/pipeline/packet.js';
import type { Table } from '../../src/pipeline/table.js';
import { decrementTtl } from '../../src/pipeline/common-header.js';
import { readU16, readU32 } from '../../src/wire/bytes.js';
import { OFF_DST, OFF_DSTPORT, OFF_PROTOCOL, OFF_SRC, OFF_SRCPORT } from '../../src/wire/common-header.js';

export type ForwardingKind = 'l3' | 'ecmp';

/**
 * The forwarding stage every program ends with: the `ipv4_lpm` table the routing controller
 * fills. With 'ecmp' the table is implemented by an action selector whose hash is a crc32 of
 * the 5-tuple, seeded per switch so that two tiers hashing one flow do not make correlated
 * choices (hash polarization); with 'l3' each route has one next hop.
 */
export function declareForwarding<M>(p: ProgramBuilder<M>, kind: ForwardingKind): Table<M> {
  const forward = p.action('forward', [{ name: 'port', width: 16 }], (pkt, params) => {
    if (decrementTtl(pkt.buf)) pkt.sendToPort(params[0]!);
    else pkt.markToDrop();
  });
  const drop = p.action('drop', [], (pkt) => pkt.markToDrop());
  const tuple = new Uint32Array(5);
  const crc = p.hash('crc32');
  return p.table({
    name: 'ipv4_lpm',
    keys: [{ name: 'hdr.common.dst', match: 'lpm', width: 32, read: (pkt) => readU32(pkt.buf, OFF_DST) }],
    actions: [forward, drop],
    defaultAction: drop,
    size: 16384,
    selector:
      kind === 'ecmp'
        ? {
            name: 'ecmp_selector',
            maxGroupSize: 64,
            hash: (pkt: Packet<M>) => fiveTupleHash(pkt.buf, tuple, crc),
          }
        : undefined,
  });
}

/** crc over (src, dst, srcPort, dstPort, protocol) of the common header. */
export function fiveTupleHash(b: Uint8Array, tuple: Uint32Array, crc: { ofWords(w: ArrayLike<number>, n: number): number }): number {
  tuple[0] = readU32(b, OFF_SRC);
  tuple[1] = readU32(b, OFF_DST);
  tuple[2] = readU16(b, OFF_SRCPORT);
  tuple[3] = readU16(b, OFF_DSTPORT);
  tuple[4] = b[OFF_PROTOCOL]!;
  return crc.ofWords(tuple, 5);
}
