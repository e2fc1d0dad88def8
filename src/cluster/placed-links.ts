import { DetachedPort } from '../net/detached-port.js';
import type { Port } from '../net/port.js';
import { UdpEndpoint } from '../net/udp-transport.js';
import type { LinkProvider } from '../run/fabric.js';
import type { Topology } from '../topology/types.js';
import { endpointAddress, type Addressing } from './link-addresses.js';

/**
 * The link ends of a fabric spread over processes: each end on a node of this process is a
 * socket bound where the addressing plan puts it and pointed at its peer's address; an end
 * elsewhere is a DetachedPort. `variant` tells apart the fabrics of one run (see
 * endpointAddress).
 */
export function placedLinks(topology: Topology, local: ReadonlySet<string>, addressing: Addressing, variant = 0): LinkProvider {
  const endpoints: UdpEndpoint[] = [];
  const links = topology.links.length;
  const side = async (name: string, node: string, index: number, me: 'a' | 'b'): Promise<Port> => {
    if (!local.has(node)) return new DetachedPort(name);
    const here = endpointAddress(addressing, index, me, variant, links);
    const peer = endpointAddress(addressing, index, me === 'a' ? 'b' : 'a', variant, links);
    const ep = await UdpEndpoint.bind(name, here.host, here.port);
    endpoints.push(ep);
    await ep.connect(peer.host, peer.port);
    return ep;
  };
  return {
    link: async (spec, index, [a, b]) => [await side(a, spec.a, index, 'a'), await side(b, spec.b, index, 'b')],
    close: async () => {
      await Promise.all(endpoints.map((e) => e.closeAsync()));
    },
  };
}
