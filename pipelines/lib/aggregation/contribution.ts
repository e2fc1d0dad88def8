import type { Packet } from '../../../src/pipeline/packet.js';
import { readI32, writeI32 } from '../../../src/wire/bytes.js';
import {
  SHARP_STAT_PARTIAL_RESENT, SHARP_STAT_PARTIAL_UP, SML_MAX_WORKERS, SML_STAT_AGGREGATED, SML_STAT_COMPLETED, SML_STAT_DUPLICATE,
  SML_STAT_RESENT, SML_STAT_STALE, SML_STAT_UNKNOWN_WORKER,
} from '../../../src/wire/names/aggregation.js';
import { SML_FLAG_OVERFLOW, SML_FLAG_RETRANSMIT, SML_RESULT, SML_UPDATE } from '../../../src/wire/switchml.js';
import { copyOf, dropCounted, valuesOffset, writeAggregateHeader, writeStoredAggregate, type AggregationContext } from './context.js';
import { int8, ROLE_CHILD, ROLE_WORKER, type AggregationMeta } from './metadata.js';

/**
 * The control of a contributing member (a flat worker, or a tree child: a worker or a child
 * switch's partial): SwitchML's round logic on the slot copy the frame names. The decisions
 * are described in pipelines/switchml.ts (flat) and pipelines/sharp.ts (trees).
 */
export function contributionControl<M extends AggregationMeta>(ctx: AggregationContext<M>): (pkt: Packet<M>) => void {
  const { sml, common, F, C, registers: r, stats, routes, myAddress } = ctx;
  const epp = ctx.elementsPerPacket;

  /** Turns the frame into this switch's partial and routes it to the parent (the header already written). */
  const toParent = (pkt: Packet<M>): void => {
    pkt.set(common, C.src, myAddress);
    pkt.set(common, C.dst, pkt.meta.parent);
    routes.apply(pkt);
  };

  return (pkt) => {
    const m = pkt.meta;
    const b = pkt.buf;
    const role = m.role;
    if (role !== ROLE_WORKER && role !== ROLE_CHILD) return dropCounted(ctx, pkt, SML_STAT_UNKNOWN_WORKER);
    const workersN = m.numWorkers;
    const c = copyOf(ctx, pkt, m.workerBit >= SML_MAX_WORKERS || workersN < 1 || workersN > SML_MAX_WORKERS);
    if (c < 0) return;
    const n = pkt.get(sml, F.elementCount);
    // a tree node below the root passes a partial up instead of answering
    const below = role === ROLE_CHILD && m.parent !== 0;

    const bit = (1 << m.workerBit) >>> 0;
    const t = pkt.get(sml, F.packet);
    const cnt = r.count.read(c);
    const bm = r.bitmap.read(c);
    // serial-number difference: > 0 when this packet belongs to a later round than the copy's
    const d = (t - r.seq.read(c)) | 0;
    let first: boolean;
    if (cnt === 0) {
      if (d === 0) {
        // the copy holds this round's complete aggregate
        if ((bm & bit) === 0) return dropCounted(ctx, pkt, SML_STAT_STALE);
        if (below && r.done!.read(c) === 0) {
          // Complete here but the total has not come down: our partial, or the parent's
          // result, was lost above. Send the partial up again; the parent adds it, or (if it
          // is complete there) answers with the result.
          stats.count(SHARP_STAT_PARTIAL_RESENT, b.length);
          writeStoredAggregate(ctx, pkt, c, n, SML_UPDATE, SML_FLAG_RETRANSMIT);
          toParent(pkt);
          return;
        }
        // a retransmission: the sender lost its result; answer it alone
        stats.count(SML_STAT_RESENT, b.length);
        writeStoredAggregate(ctx, pkt, c, n, SML_RESULT, 0);
        pkt.set(common, C.dst, pkt.get(common, C.src));
        pkt.set(common, C.src, myAddress);
        routes.apply(pkt);
        return;
      }
      if (d < 0) return dropCounted(ctx, pkt, SML_STAT_STALE);
      first = true;
    } else {
      if (d !== 0) return dropCounted(ctx, pkt, SML_STAT_STALE);
      // a duplicate never counts twice
      if ((bm & bit) !== 0) return dropCounted(ctx, pkt, SML_STAT_DUPLICATE);
      first = false;
    }

    // A new contribution: set the sender's bit here, clear it in the other copy.
    r.bitmap.write(c, bm | bit);
    const oc = c ^ 1;
    r.bitmap.write(oc, r.bitmap.read(oc) & ~bit);
    const now = (cnt + 1) % workersN;
    r.count.write(c, now);
    const complete = now === 0;
    const base = c * epp;
    const e = int8(pkt.get(sml, F.exponent));
    // a child switch's partial carries whether its subtree's sum wrapped
    const childOverflow = role === ROLE_CHILD && (pkt.get(sml, F.flags) & SML_FLAG_OVERFLOW) !== 0 ? 1 : 0;
    const data = valuesOffset(ctx, pkt);
    let exponent: number;
    let overflow: number;
    if (first) {
      // No clear pass: the first contribution of a round overwrites the copy.
      r.seq.write(c, t);
      exponent = r.storeExponent.execute(c, e);
      overflow = r.storeOverflow.execute(c, childOverflow);
      for (let i = 0, off = data; i < n; i++, off += 4) r.storeValue.execute(base + i, readI32(b, off));
    } else {
      exponent = r.maxExponent.execute(c, e);
      let wrapped = 0;
      for (let i = 0, off = data; i < n; i++, off += 4) {
        const y = readI32(b, off);
        const sum = r.accumulate.execute(base + i, y);
        const x = (sum - y) | 0;
        // signed overflow: both operands' signs differ from the sum's
        wrapped |= (x ^ sum) & (y ^ sum);
        // the completing frame carries the aggregate out: it gets the sums as they are made
        if (complete) writeI32(b, off, sum);
      }
      overflow = r.orOverflow.execute(c, wrapped < 0 || childOverflow === 1 ? 1 : 0);
    }
    // a tree copy holds the job's total once complete at the root; until then (and below it) not
    if (role === ROLE_CHILD && (first || (complete && !below))) r.done!.write(c, complete && !below ? 1 : 0);
    stats.count(SML_STAT_AGGREGATED, b.length);
    if (!complete) {
      // consumed: the contribution lives in the registers now
      pkt.consume();
      return;
    }
    stats.count(SML_STAT_COMPLETED, b.length);
    if (below) {
      // one partial per slot round goes up; the copy waits for the total (done = 0)
      stats.count(SHARP_STAT_PARTIAL_UP, b.length);
      writeAggregateHeader(ctx, pkt, SML_UPDATE, 0, overflow, exponent);
      toParent(pkt);
      return;
    }
    writeAggregateHeader(ctx, pkt, SML_RESULT, 0, overflow, exponent);
    pkt.multicast(m.mcastGroup);
  };
}
