import { writeI32 } from '../../../src/wire/bytes.js';
import type { Counter } from '../../../src/pipeline/externs/counter.js';
import type { HeaderField, HeaderRef } from '../../../src/pipeline/header.js';
import type { Packet } from '../../../src/pipeline/packet.js';
import type { Table } from '../../../src/pipeline/table.js';
import { SML_ANY_PORT, SML_STAT_BAD_SLOT, SML_STAT_MALFORMED, SML_STAT_SPOOFED } from '../../../src/wire/names/aggregation.js';
import { SML_FLAG_OVERFLOW } from '../../../src/wire/switchml.js';
import type { AggregationFields, AggregationMeta } from './metadata.js';
import type { SlotRegisters } from './slots.js';

/** a frame the switch rewrites and sends on starts a fresh hop count */
export const FRESH_TTL = 64;

/** What the aggregation controls share: the headers they read, the slots, the counter, the routes. */
export interface AggregationContext<M> {
  readonly common: HeaderRef;
  readonly sml: HeaderRef;
  readonly F: AggregationFields;
  readonly C: { readonly src: HeaderField; readonly dst: HeaderField; readonly ttl: HeaderField };
  readonly slots: number;
  readonly elementsPerPacket: number;
  /** this switch's loopback address (-1: none, the program only forwards) */
  readonly myAddress: number;
  readonly registers: SlotRegisters;
  readonly stats: Counter;
  /** the forwarding stage, for frames the switch rewrites and sends on */
  readonly routes: Table<M>;
}

export function dropCounted<M>(ctx: AggregationContext<M>, pkt: Packet<M>, reason: number): void {
  ctx.stats.count(reason, pkt.buf.length);
  pkt.markToDrop();
}

/**
 * The slot copy an aggregation frame of a known member addresses, after the checks every role
 * makes (the member's port, the job's slot window, the copy and element count); -1 when the
 * frame was dropped. `malformed` adds a role's own well-formedness test.
 */
export function copyOf<M extends AggregationMeta>(ctx: AggregationContext<M>, pkt: Packet<M>, malformed: boolean): number {
  const m = pkt.meta;
  if (m.port !== SML_ANY_PORT && pkt.ingressPort !== m.port) {
    dropCounted(ctx, pkt, SML_STAT_SPOOFED);
    return -1;
  }
  const s = pkt.get(ctx.sml, ctx.F.slot);
  const slot = m.slotBase + s;
  if (s >= m.slotCount || slot >= ctx.slots) {
    dropCounted(ctx, pkt, SML_STAT_BAD_SLOT);
    return -1;
  }
  const ver = pkt.get(ctx.sml, ctx.F.ver);
  if (ver > 1 || pkt.get(ctx.sml, ctx.F.elementCount) > ctx.elementsPerPacket || malformed) {
    dropCounted(ctx, pkt, SML_STAT_MALFORMED);
    return -1;
  }
  return 2 * slot + ver;
}

/** Writes the aggregation header of a frame the switch sends: kind, flags (with the overflow bit), exponent, fresh TTL. */
export function writeAggregateHeader<M>(ctx: AggregationContext<M>, pkt: Packet<M>, kind: number, flags: number, overflow: number, exponent: number): void {
  pkt.set(ctx.sml, ctx.F.kind, kind);
  pkt.set(ctx.sml, ctx.F.flags, flags | (overflow ? SML_FLAG_OVERFLOW : 0));
  pkt.set(ctx.sml, ctx.F.exponent, exponent & 0xff);
  pkt.set(ctx.common, ctx.C.ttl, FRESH_TTL);
}

/** Copies copy c's stored aggregate (n values, its overflow and exponent) into the frame. */
export function writeStoredAggregate<M>(ctx: AggregationContext<M>, pkt: Packet<M>, c: number, n: number, kind: number, flags: number): void {
  const r = ctx.registers;
  const base = c * ctx.elementsPerPacket;
  const b = pkt.buf;
  for (let i = 0, o = valuesOffset(ctx, pkt); i < n; i++, o += 4) writeI32(b, o, r.values.read(base + i));
  writeAggregateHeader(ctx, pkt, kind, flags, r.overflow.read(c), r.exponent.read(c));
}

/** Where the aggregation values start in the frame: right after the header the parser found. */
export function valuesOffset<M>(ctx: AggregationContext<M>, pkt: Packet<M>): number {
  return pkt.offsetOf(ctx.sml) + ctx.sml.type.bytes;
}
