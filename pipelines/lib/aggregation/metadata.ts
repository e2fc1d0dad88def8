import type { ParserState } from '../../../src/pipeline/parser.js';
import { fieldsOf, type HeaderRef } from '../../../src/pipeline/header.js';
import { SML_DEFAULT_ELEMENTS, SML_DEFAULT_SLOTS } from '../../../src/wire/names/aggregation.js';
import { SML_HEADER_BYTES } from '../../../src/wire/switchml.js';

/** What a frame's source is to this switch for its job, from the workers table (members.ts). */
export const ROLE_NONE = 0;
export const ROLE_WORKER = 1;
export const ROLE_CHILD = 2;
export const ROLE_PARENT = 3;

export interface AggregationMeta {
  /** what the frame's source is to this switch for its job (ROLE_*), from the workers table */
  role: number;
  workerBit: number;
  numWorkers: number;
  mcastGroup: number;
  slotBase: number;
  slotCount: number;
  /** tree: the parent's address (0 at the root) */
  parent: number;
  /** the port the member's frames must arrive on (SML_ANY_PORT: any) */
  port: number;
}

export const aggregationMetadata = (): AggregationMeta => ({ role: ROLE_NONE, workerBit: 0, numWorkers: 0, mcastGroup: 0, slotBase: 0, slotCount: 0, parent: 0, port: 0 });
export const resetAggregationMetadata = (m: AggregationMeta): void => {
  m.role = ROLE_NONE;
};
// multicast replicas each get a copy; egress reads none of it, so a shallow copy is plenty
export const copyAggregationMetadata = (m: AggregationMeta): AggregationMeta => ({ ...m });

export function aggregationOptions(o: Readonly<Record<string, unknown>>, program: string): { slots: number; elementsPerPacket: number } {
  const a = (o.aggregation ?? {}) as { slots?: unknown; elementsPerPacket?: unknown };
  const slots = a.slots ?? SML_DEFAULT_SLOTS;
  const epp = a.elementsPerPacket ?? SML_DEFAULT_ELEMENTS;
  if (typeof slots !== 'number' || !Number.isInteger(slots) || slots < 1) throw new Error(`${program}: aggregation.slots must be a positive integer, got ${String(slots)}`);
  if (typeof epp !== 'number' || !Number.isInteger(epp) || epp < 1 || epp > 0xffff) throw new Error(`${program}: aggregation.elementsPerPacket must be an integer in 1..65535, got ${String(epp)}`);
  return { slots, elementsPerPacket: epp };
}

/** The aggregation header's fields, as a program reads them through its header reference. */
export const aggregationFields = (sml: HeaderRef) => fieldsOf(sml, ['kind', 'flags', 'slot', 'ver', 'exponent', 'elementCount', 'packet'] as const);
export type AggregationFields = ReturnType<typeof aggregationFields>;

/** The parser state after the common header: the aggregation header, whose values must fill the payload exactly. */
export function aggregationParserState<M>(common: HeaderRef, sml: HeaderRef): ParserState<M> {
  const payloadLength = common.type.field('payloadLength');
  const count = sml.type.field('elementCount');
  return {
    extract: [sml],
    // the values must fill the payload exactly: elementCount is what the switch reads
    verify: (pkt) => (pkt.get(common, payloadLength) === SML_HEADER_BYTES + 4 * pkt.get(sml, count) ? null : 'SwitchmlLength'),
    next: 'accept',
  };
}

/** int8 from the byte a header field holds (the block exponent is signed) */
export const int8 = (v: number): number => (v << 24) >> 24;
