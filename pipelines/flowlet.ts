import { forwardingProgram } from './lib/forwarding.js';

/**
 * Flowlet switching (LetFlow, Vanini et al., NSDI 2017): a packet arriving after an idle gap
 * longer than `flowletGapUs` starts a new flowlet on a random member of its route's ECMP group
 * (see lib/load-balancing.ts).
 */
export default forwardingProgram('flowlet', 'flowlet', 'LPM routing to ECMP groups, LetFlow flowlets (random member per flowlet)');
