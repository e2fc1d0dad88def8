import { defineProgram } from '../src/pipeline/program.js';
import { declareCommonHeader, verifyCommonHeader } from '../src/pipeline/common-header.js';
import { PROTO_SWITCHML } from '../src/wire/protocols.js';
import { switchmlHeader } from '../src/wire/switchml.js';
import { declareForwarding, declareSourceGuard, loadBalancingOf } from './lib/forwarding.js';
import {
  aggregationMetadata, aggregationParserState, copyAggregationMetadata, declareAggregation, resetAggregationMetadata,
  type AggregationMeta,
} from './lib/aggregation.js';

/**
 * SwitchML-style in-network aggregation (Sapio et al., NSDI'21) on the engine's registers,
 * plus ECMP forwarding of everything else: this switch aggregates AND forwards.
 *
 * Control-plane surface (what src/topology/aggregation-manager.ts writes):
 *   table  switchml_workers     exact (hdr.common.src, hdr.common.dstPort = job id)
 *                               -> set_worker(workerBit, numWorkers, mcastGroup, slotBase, slotCount)
 *   table  switchml_result_dst  egress, exact (std.instance) -> set_result_dst(dst)
 *   multicast groups            one per job, one replica per worker
 *   registers                   switchml_{values,bitmap,count,exponent,overflow,seq}, per slot
 *                               copy c = 2·slot + ver (values: c·elementsPerPacket + i)
 *   counter switchml_stats      indexed by SML_STAT_*
 * The names live in src/wire/names/aggregation.ts, shared with the controller that writes them
 * (src/topology/aggregation-manager.ts).
 *
 * Options (env.options): `address` (this switch's loopback; UPDATEs to it are aggregated,
 * without it the program only forwards) and `aggregation: { slots, elementsPerPacket }`.
 *
 * The algorithm is SwitchML's (two shadow copies per slot, a worker bitmap per copy, a
 * contribution counter mod n, overwrite on the first contribution instead of a clear pass,
 * result multicast on completion, unicast re-send of a completed result to a retransmitting
 * worker). One addition: each copy remembers the `packet` sequence number of its round
 * (switchml_seq). SwitchML's argument that a worker's bit cleared in copy v means "this worker
 * moved on" assumes no packet is delayed past its sender's next round on the slot; link
 * emulation that duplicates and holds frames back breaks that (a held duplicate of round r
 * arriving after the same worker's round r+1 would be added into copy v as fresh data, and
 * then block round r+2 forever). The client numbers packets monotonically over the whole job,
 * so a contribution is accepted only for the round in progress (same seq) or to start a new
 * round on an idle copy (a newer seq); anything older is dropped as stale. In every other case
 * the decisions are exactly SwitchML's.
 *
 * The stage itself lives in pipelines/lib/aggregation.ts, shared with pipelines/sharp.ts (which
 * adds aggregation trees on top of it); this program is that stage without the tree actions.
 */
export default defineProgram<AggregationMeta>({
  name: 'switchml',
  description: 'SwitchML in-network aggregation (shadow-copy slots, bitmaps, multicast results) + ECMP forwarding',
  metadata: aggregationMetadata,
  resetMetadata: resetAggregationMetadata,
  copyMetadata: copyAggregationMetadata,
  build(p, env) {
    const common = declareCommonHeader(p);
    const sml = p.header('switchml', switchmlHeader);
    const protocol = common.type.field('protocol');
    p.parser({
      start: {
        extract: [common],
        verify: verifyCommonHeader,
        select: { key: (pkt) => pkt.get(common, protocol), cases: [{ value: PROTO_SWITCHML, next: 'switchml' }], default: 'accept' },
      },
      switchml: aggregationParserState(common, sml),
    });
    // Spoofed frames die at the edge, before they can contribute or be forwarded.
    const guard = declareSourceGuard(p);
    // Aggregating switches also balance everything else, with the scenario's scheme.
    const routes = declareForwarding(p, loadBalancingOf(p.env.options));
    const aggregation = declareAggregation(p, env, sml, routes, { tree: false, program: 'switchml' });
    return {
      ingress(pkt) {
        if (guard.admit(pkt) && !aggregation.ingress(pkt)) routes.apply(pkt);
      },
      egress: aggregation.egress,
    };
  },
});
