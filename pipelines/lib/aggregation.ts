import type { ProgramBuilder, PipelineEnv } from '../../src/pipeline/program.js';
import type { HeaderRef } from '../../src/pipeline/header.js';
import type { Packet } from '../../src/pipeline/packet.js';
import type { Table } from '../../src/pipeline/table.js';
import { commonHeaderOf } from '../../src/pipeline/common-header.js';
import { SHARP_STAT_NAMES, SML_STAT_NAMES, SML_STATS_COUNTER } from '../../src/wire/names/aggregation.js';
import { SML_RESULT, SML_UPDATE } from '../../src/wire/switchml.js';
import { aggregationFields, aggregationOptions, type AggregationMeta } from './aggregation/metadata.js';
import { declareSlots } from './aggregation/slots.js';
import { declareMembers } from './aggregation/members.js';
import { contributionControl } from './aggregation/contribution.js';
import { fromParentControl } from './aggregation/from-parent.js';
import { resultDstControl } from './aggregation/result-dst.js';
import type { AggregationContext } from './aggregation/context.js';

export {
  ROLE_NONE, ROLE_WORKER, ROLE_CHILD, ROLE_PARENT, aggregationMetadata, resetAggregationMetadata, copyAggregationMetadata,
  aggregationOptions, aggregationParserState, type AggregationMeta,
} from './aggregation/metadata.js';

/**
 * The in-network aggregation stage shared by pipelines/switchml.ts (flat: one switch
 * aggregates all workers) and pipelines/sharp.ts (trees: every switch of a job's tree
 * aggregates its children and passes one partial up). The algorithm and the registers are
 * SwitchML's, described in pipelines/switchml.ts; the tree additions in pipelines/sharp.ts.
 *
 * One control per role, in aggregation/: the workers table says what the frame's source is
 * (members.ts); a contributing member's frame runs SwitchML's round logic (contribution.ts), a
 * RESULT from a tree parent is kept and passed down (from-parent.ts), and egress addresses each
 * multicast result copy (result-dst.ts). The slot registers and the RegisterActions that
 * update them are in slots.ts.
 */
export interface AggregationStage<M> {
  /** handles an aggregation frame addressed to this switch; false when the frame is not one (forward it) */
  ingress(pkt: Packet<M>): boolean;
  egress(pkt: Packet<M>): void;
}

/**
 * Declares the aggregation registers, tables and counter on `p` and returns the stage.
 * `tree` adds the tree actions and the per-copy done flag (pipelines/sharp.ts).
 */
export function declareAggregation<M extends AggregationMeta>(
  p: ProgramBuilder<M>,
  env: PipelineEnv,
  sml: HeaderRef,
  routes: Table<M>,
  o: { tree: boolean; program: string },
): AggregationStage<M> {
  const { slots, elementsPerPacket } = aggregationOptions(env.options, o.program);
  const addr = env.options.address;
  const myAddress = typeof addr === 'number' ? addr >>> 0 : -1;
  const common = commonHeaderOf(p);
  const registers = declareSlots(p, slots, elementsPerPacket, o.tree);
  const stats = p.counter(SML_STATS_COUNTER, (o.tree ? SHARP_STAT_NAMES : SML_STAT_NAMES).length, 'packets');
  const members = declareMembers(p, common, o.tree);
  const ctx: AggregationContext<M> = {
    common,
    sml,
    F: aggregationFields(sml),
    C: { src: common.type.field('src'), dst: common.type.field('dst'), ttl: common.type.field('ttl') },
    slots,
    elementsPerPacket,
    myAddress,
    registers,
    stats,
    routes,
  };
  const egress = resultDstControl(p, common, myAddress);
  const contribution = contributionControl(ctx);
  const fromParent = o.tree ? fromParentControl(ctx) : null;
  const dst = ctx.C.dst;
  const kindField = ctx.F.kind;

  return {
    ingress(pkt) {
      if (!pkt.valid(sml) || pkt.get(common, dst) !== myAddress) return false;
      const kind = pkt.get(sml, kindField);
      if (kind === SML_UPDATE) {
        members.apply(pkt);
        contribution(pkt);
      } else if (kind === SML_RESULT && fromParent !== null) {
        members.apply(pkt);
        fromParent(pkt);
      } else return false;
      return true;
    },
    egress,
  };
}
