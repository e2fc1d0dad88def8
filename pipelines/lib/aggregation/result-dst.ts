import type { ProgramBuilder } from '../../../src/pipeline/program.js';
import type { HeaderRef } from '../../../src/pipeline/header.js';
import type { Packet } from '../../../src/pipeline/packet.js';
import { SML_RESULT_DST_KEY, SML_RESULT_DST_TABLE, SML_SET_RESULT_DST } from '../../../src/wire/names/aggregation.js';

/**
 * The egress control of result copies: a multicast replica carries its instance, and the
 * switchml_result_dst table addresses it to its member (src = this switch). Copies with no
 * entry are dropped.
 */
export function resultDstControl<M>(p: ProgramBuilder<M>, common: HeaderRef, myAddress: number): (pkt: Packet<M>) => void {
  const src = common.type.field('src');
  const dst = common.type.field('dst');
  const setResultDst = p.action(SML_SET_RESULT_DST, [{ name: 'dst', width: 32 }], (pkt, a) => {
    pkt.set(common, dst, a[0]!);
    pkt.set(common, src, myAddress);
  });
  const dropCopy = p.action('drop', [], (pkt) => pkt.markToDrop());
  const resultDst = p.table({
    name: SML_RESULT_DST_TABLE,
    keys: [{ name: SML_RESULT_DST_KEY, match: 'exact', width: 16, read: (pkt) => pkt.instance }],
    actions: [setResultDst, dropCopy],
    defaultAction: dropCopy,
    size: 65536,
  });
  return (pkt) => {
    if (pkt.instance !== 0) resultDst.apply(pkt);
  };
}
