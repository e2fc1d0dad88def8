import { defineProgram, type ProgramBuilder, type ProgramFactory } from '../../src/pipeline/program.js';
import { declareCommonHeader, verifyCommonHeader } from '../../src/pipeline/common-header.js';
import type { Packet } from '../../src/pipeline/packet.js';
import type { GroupView, Table } from '../../src/pipeline/table.js';
import { commonHeaderOf } from '../../src/pipeline/common-header.js';
import { readU32 } from '../../src/wire/bytes.js';
import { FORWARD_ACTION, ROUTE_KEY, ROUTE_SELECTOR, ROUTE_TABLE } from '../../src/wire/names/forwarding.js';
import { createLoadBalancer, FiveTuple, fmix32, type LoadBalancer, type LoadBalancingKind } from './load-balancing.js';
import { declareSourceGuard } from './source-guard.js';

export { FiveTuple, fmix32, loadBalancingOf, type LoadBalancingKind } from './load-balancing.js';
export { declareSourceGuard } from './source-guard.js';

/** 'l3': one next hop per route; the others: a load-balancing scheme over ECMP groups. */
export type ForwardingKind = 'l3' | LoadBalancingKind;

/**
 * A scheme of its own, outside load-balancing/: makes the member choice of one switch's
 * program (registers, counters and randomness declared on `p`). A forwarding program built
 * with it is a whole new scheme in one file (the README's worked example).
 */
export type BalancerFactory = <M>(p: ProgramBuilder<M>) => LoadBalancer<M>;

/**
 * The forwarding stage every program ends with: the `ipv4_lpm` table the routing controller
 * fills. With 'l3' each route has one next hop. Otherwise the table is implemented by an action
 * selector whose groups (one member per equal-cost port) are the candidates of the scheme:
 * - 'ecmp': the selector hash is a crc32 of the 5-tuple seeded per switch, then mixed (fmix32)
 *   so that two tiers hashing one flow do not make correlated choices (hash polarization: a
 *   seeded CRC alone only XORs every flow's hash with the same constant);
 * - 'flowlet' | 'drill' | 'conga': the selector "hash" is the index of the member the scheme
 *   chose for this packet among the group's members (see load-balancing.ts), and CONGA also
 *   sees every forwarded packet (rate estimators, congestion field, feedback).
 * Compose it with anything else a program does (aggregation) by applying the returned table.
 */
export function declareForwarding<M>(p: ProgramBuilder<M>, kind: ForwardingKind | BalancerFactory): Table<M> {
  const common = commonHeaderOf(p);
  const dst = common.type.field('dst');
  const ttl = common.type.field('ttl');
  const lb = kind === 'l3' ? null : typeof kind === 'function' ? kind(p) : createLoadBalancer(p, kind);
  const onForward = lb?.onForward?.bind(lb);
  // Every routed packet passes here: the field places are taken from the declaration once and
  // read at the header instance's place with the width's own read (pkt.get's generic width
  // dispatch cost ecmp ~15 % in \`ina bench pipeline\`).
  if (dst.bytes !== 4 || ttl.bytes !== 1) throw new Error(`forwarding: ${common.type.name} needs a 4-byte dst and a 1-byte ttl`);
  const dstAt = dst.offset;
  const ttlAt = ttl.offset;
  const forward = p.action(FORWARD_ACTION, [{ name: 'port', width: 16 }], (pkt, params) => {
    // TTL 0 or 1: the frame dies here
    const o = pkt.offsetOf(common) + ttlAt;
    const t = pkt.buf[o]!;
    if (t > 1) {
      pkt.buf[o] = t - 1;
      pkt.sendToPort(params[0]!);
      if (onForward !== undefined) onForward(pkt, params[0]!);
    } else pkt.markToDrop();
  });
  const drop = p.action('drop', [], (pkt) => pkt.markToDrop());
  const tuple = new FiveTuple(common, p.hash('crc32'));
  let hash: ((pkt: Packet<M>, group: GroupView<M>) => number) | null = null;
  if (kind !== 'l3') {
    hash =
      lb === null
        ? (pkt) => fmix32(tuple.hash(pkt))
        : (pkt, g) => (g.members.length === 0 ? 0 : lb.choose(pkt, g));
  }
  return p.table({
    name: ROUTE_TABLE,
    keys: [{ name: ROUTE_KEY, match: 'lpm', width: 32, read: (pkt) => readU32(pkt.buf, pkt.offsetOf(common) + dstAt) }],
    actions: [forward, drop],
    defaultAction: drop,
    size: 16384,
    selector: hash !== null ? { name: ROUTE_SELECTOR, maxGroupSize: 64, hash } : undefined,
  });
}

/**
 * A program that only forwards: the common header, the edge's source guard, then the
 * forwarding stage with `kind`.
 * l3, ecmp, flowlet, drill and conga are this, each with its own scheme.
 */
export function forwardingProgram(name: string, kind: ForwardingKind | BalancerFactory, description: string): ProgramFactory<Record<string, never>> {
  return defineProgram<Record<string, never>>({
    name,
    description,
    metadata: () => ({}),
    resetMetadata: () => {},
    copyMetadata: () => ({}),
    build(p) {
      const common = declareCommonHeader(p);
      p.parser({ start: { extract: [common], verify: verifyCommonHeader, next: 'accept' } });
      const guard = declareSourceGuard(p);
      const routes = declareForwarding(p, kind);
      return {
        ingress(pkt) {
          if (guard.admit(pkt)) routes.apply(pkt);
        },
      };
    },
  });
}
