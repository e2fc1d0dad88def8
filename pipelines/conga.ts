import { forwardingProgram } from './lib/forwarding.js';

/**
 * CONGA (Alizadeh et al., SIGCOMM 2014): per-port discounting rate estimators, a congestion
 * field max-updated at every hop, leaf-to-leaf feedback piggybacked on reverse traffic, and a
 * flowlet-level choice of the least congested uplink (see lib/load-balancing.ts).
 */
export default forwardingProgram('conga', 'conga', 'LPM routing to ECMP groups, CONGA congestion-aware flowlet choice');
