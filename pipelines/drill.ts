import { forwardingProgram } from './lib/forwarding.js';

/**
 * DRILL(d, m) (Ghorbani et al., SIGCOMM 2017): per packet, the member port with the shallowest
 * egress queue among d random members and the m least loaded remembered from the last packet
 * (`drill: { d, m }`, default 2, 1; see lib/load-balancing.ts).
 */
export default forwardingProgram('drill', 'drill', 'LPM routing to ECMP groups, DRILL(d, m) per-packet least-loaded choice');
