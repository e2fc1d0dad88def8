import { forwardingProgram } from './lib/forwarding.js';

/**
 * ECMP: LPM routes point at action-selector groups of equal-cost next hops; the member is
 * picked by a crc32 of the 5-tuple seeded per switch (see lib/forwarding.ts).
 */
export default forwardingProgram('ecmp', 'ecmp', 'LPM routing to ECMP groups, 5-tuple crc32 with a per-switch seed');
