import { defineProgram } from '../src/pipeline/program.js';
import { declareCommonHeader, verifyCommonHeader } from '../src/pipeline/common-header.js';
import { PROTO_SHARP, PROTO_SWITCHML } from '../src/wire/protocols.js';
import { sharpHeader } from '../src/wire/sharp.js';
import { declareForwarding, declareSourceGuard, loadBalancingOf } from './lib/forwarding.js';
import {
  aggregationMetadata, aggregationParserState, copyAggregationMetadata, declareAggregation, resetAggregationMetadata,
  type AggregationMeta,
} from './lib/aggregation.js';

/**
 * SHARP-style aggregation trees (Graham et al., "Scalable Hierarchical Aggregation Protocol",
 * COMHPC'16) on SwitchML's slot machinery, plus ECMP forwarding of everything else. A fabric
 * runs one program, so this one also runs flat SwitchML jobs exactly as pipelines/switchml.ts
 * (same tables, registers and decisions; a `set_worker` entry means a flat job).
 *
 * For a tree job (entries installed by AggregationManager.allocateTree) every switch of the
 * tree aggregates its children, workers or child switches alike, each one bit of the slot
 * bitmap: a child switch is one "worker" whose contribution is its subtree's partial sum. When
 * a slot round completes, a switch below the root sends ONE partial to its parent (the
 * completing frame rewritten: src = this switch, dst = the parent's loopback) and keeps the
 * copy, marked not done; the root multicasts the total down. A switch receiving the total from
 * its parent stores it in the copy (done) and multicasts it to its children. Retransmissions
 * walk up the tree only as far as the total has not come down; the protocol, and why one lost
 * frame anywhere is recovered by the workers' timeouts alone, is in src/wire/sharp.ts.
 *
 * Control-plane surface, beyond switchml's (names in src/wire/names/aggregation.ts):
 *   switchml_workers  + set_tree_child(childBit, numChildren, mcastGroup, slotBase, slotCount, parent)
 *                     + set_tree_parent(mcastGroup, slotBase, slotCount)
 *   register sharp_done        per slot copy: holds the job's total (1 bit)
 *   counter switchml_stats     + partialUp, partialResent, resultDown
 * Slot pools are shared by every job, flat or tree, on the switch.
 */
export default defineProgram<AggregationMeta>({
  name: 'sharp',
  description: 'SHARP-style aggregation trees over SwitchML slots (partials up, results multicast down) + flat SwitchML + ECMP forwarding',
  metadata: aggregationMetadata,
  resetMetadata: resetAggregationMetadata,
  copyMetadata: copyAggregationMetadata,
  build(p, env) {
    const common = declareCommonHeader(p);
    const agg = p.header('switchml', sharpHeader);
    const protocol = common.type.field('protocol');
    p.parser({
      start: {
        extract: [common],
        verify: verifyCommonHeader,
        select: {
          key: (pkt) => pkt.get(common, protocol),
          cases: [
            { value: PROTO_SWITCHML, next: 'aggregation' },
            { value: PROTO_SHARP, next: 'aggregation' },
          ],
          default: 'accept',
        },
      },
      aggregation: aggregationParserState(common, agg),
    });
    // Spoofed frames die at the edge, before they can contribute or be forwarded.
    const guard = declareSourceGuard(p);
    // Aggregating switches also balance everything else, with the scenario's scheme.
    const routes = declareForwarding(p, loadBalancingOf(p.env.options));
    const aggregation = declareAggregation(p, env, agg, routes, { tree: true, program: 'sharp' });
    return {
      ingress(pkt) {
        if (guard.admit(pkt) && !aggregation.ingress(pkt)) routes.apply(pkt);
      },
      egress: aggregation.egress,
    };
  },
});
