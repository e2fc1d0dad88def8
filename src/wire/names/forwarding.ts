/**
 * The control-plane names every forwarding program declares and the routing controller
 * (src/topology/routing-controller.ts) writes: the contract between the two, kept here below
 * both so that pipelines/ depends only on the engine and the wire format.
 */

/** The routing table every forwarding program exposes, its key and its action. */
export const ROUTE_TABLE = 'ipv4_lpm';
export const ROUTE_KEY = 'hdr.common.dst';
export const FORWARD_ACTION = 'forward';
/** The action selector of ROUTE_TABLE (one member per equal-cost port) when the scheme balances. */
export const ROUTE_SELECTOR = 'ecmp_selector';

/**
 * The edge's source guard (pipelines/lib/source-guard.ts): per port, the address a frame
 * entering there must carry as its source (0: not a host port), and its drop counter.
 */
export const SOURCE_GUARD_REGISTER = 'source_guard';
export const SOURCE_GUARD_COUNTER = 'source_guard_drops';
