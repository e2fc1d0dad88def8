import { forwardingProgram } from './lib/forwarding.js';

/**
 * Plain L3 forwarding: longest-prefix match on the destination node address, one next hop
 * per route, TTL decremented (a frame whose TTL runs out is dropped).
 */
export default forwardingProgram('l3', 'l3', 'LPM routing on the destination address, single next hop');
