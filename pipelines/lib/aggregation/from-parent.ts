import type { Packet } from '../../../src/pipeline/packet.js';
import { readI32 } from '../../../src/wire/bytes.js';
import { SHARP_STAT_RESULT_DOWN, SML_STAT_DUPLICATE, SML_STAT_STALE, SML_STAT_UNKNOWN_WORKER } from '../../../src/wire/names/aggregation.js';
import { SML_FLAG_OVERFLOW } from '../../../src/wire/switchml.js';
import { copyOf, dropCounted, FRESH_TTL, valuesOffset, type AggregationContext } from './context.js';
import { int8, ROLE_PARENT, type AggregationMeta } from './metadata.js';

const SET = (): number => 1;

/**
 * The control of a tree switch's parent: a RESULT coming down. The copy keeps the total (for
 * later retransmissions from below) and the frame is multicast on to the children.
 */
export function fromParentControl<M extends AggregationMeta>(ctx: AggregationContext<M>): (pkt: Packet<M>) => void {
  const { sml, common, F, C, registers: r, stats } = ctx;
  const epp = ctx.elementsPerPacket;
  return (pkt) => {
    const m = pkt.meta;
    const b = pkt.buf;
    if (m.role !== ROLE_PARENT) return dropCounted(ctx, pkt, SML_STAT_UNKNOWN_WORKER);
    const c = copyOf(ctx, pkt, false);
    if (c < 0) return;
    const n = pkt.get(sml, F.elementCount);
    // only for the round this copy completed and sent up
    if (r.count.read(c) !== 0 || r.bitmap.read(c) === 0 || r.seq.read(c) !== pkt.get(sml, F.packet)) return dropCounted(ctx, pkt, SML_STAT_STALE);
    // done is tested and set in one access: a copy already holding the total stays as it is
    if (r.done!.rmw(c, SET) !== 0) return dropCounted(ctx, pkt, SML_STAT_DUPLICATE);
    const base = c * epp;
    for (let i = 0, off = valuesOffset(ctx, pkt); i < n; i++, off += 4) r.storeValue.execute(base + i, readI32(b, off));
    const flags = pkt.get(sml, F.flags);
    r.storeExponent.execute(c, int8(pkt.get(sml, F.exponent)));
    r.storeOverflow.execute(c, (flags & SML_FLAG_OVERFLOW) !== 0 ? 1 : 0);
    stats.count(SHARP_STAT_RESULT_DOWN, b.length);
    pkt.set(sml, F.flags, flags & SML_FLAG_OVERFLOW);
    pkt.set(common, C.ttl, FRESH_TTL);
    pkt.multicast(m.mcastGroup);
  };
}
