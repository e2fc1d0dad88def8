/**
 * Whether containers shape their links in the kernel (tc netem/tbf on their own interfaces,
 * which needs CAP_NET_ADMIN) or not at all outside the process. Kernel shaping is chosen as soon
 * as one live link asks for rate, delay, jitter, loss, reordering or duplication, so a
 * container only gets the capability when the scenario needs it.
 */
import { linkConfigFor, linkIsDown } from '../run/fabric.js';
import type { Scenario } from '../scenario/schema.js';
import type { Topology } from '../topology/types.js';

export type Shaping = 'software' | 'kernel';

export function shapingFor(links: Scenario['links'], topology: Topology): Shaping {
  const shaped = topology.links.some((l) => {
    // A cut link carries nothing, so its settings never need the kernel.
    if (linkIsDown(links, l.a, l.b)) return false;
    const c = linkConfigFor(links, l.a, l.b);
    return c.rateGbps > 0 || c.delayUs > 0 || c.jitterUs > 0 || c.lossRate > 0 || c.reorderRate > 0 || c.duplicateRate > 0;
  });
  return shaped ? 'kernel' : 'software';
}
