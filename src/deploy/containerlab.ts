/**
 * A containerlab topology for a scenario: the coordinator and every node as `linux` nodes of
 * the ina image, each topology link a veth pair between `eth{port+1}` of its two nodes (eth0
 * is containerlab's management interface). Nodes reach the coordinator over the management
 * network at a fixed address; link addresses (the `links` plan of
 * src/cluster/link-addresses.ts) are added by `exec` once the veths exist.
 */
import { Document, isMap, isSeq } from 'yaml';
import { DATA_PORT, linkSubnet, LINK_PREFIX } from '../cluster/link-addresses.js';
import { linkIsDown } from '../run/fabric.js';
import type { Scenario } from '../scenario/schema.js';
import type { Topology } from '../topology/types.js';
import { IMAGE } from './dockerfile.js';
import { coordinatorArgs, nodeArgs, REPORT_DIR, SCENARIO_PATH } from './node-commands.js';
import { shapingFor } from './shaping.js';

export const COORDINATOR = 'coordinator';
export const MGMT_NETWORK = 'ina-mgmt';
/** Away from containerlab's default 172.20.20.0/24, so an ina lab and another lab coexist. */
const MGMT_BASE = (172 << 24) | (30 << 16);

/** The interface of node port `port`. */
export const interfaceOf = (port: number): string => `eth${port + 1}`;

/**
 * The management plan: .1 is the Docker gateway, the coordinator .2, nodes from .3 in topology
 * order; a /24 when it holds them all, wider (down to /16) for big fabrics.
 */
export function mgmtPlan(nodes: number): { subnet: string; address(index: number): string } {
  const needed = nodes + 4; // network, gateway, coordinator, broadcast
  let prefix = 24;
  while (prefix > 16 && 2 ** (32 - prefix) < needed) prefix--;
  if (2 ** (32 - prefix) < needed) throw new Error(`${nodes} nodes do not fit a /16 management network`);
  const dotted = (v: number): string => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  return { subnet: `${dotted(MGMT_BASE)}/${prefix}`, address: (i) => dotted((MGMT_BASE + 2 + i) >>> 0) };
}

/** A containerlab lab name (and thus container names) from a scenario name. */
export function labName(scenarioName: string): string {
  const s = scenarioName.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return s || 'ina';
}

export function containerlabObject(scenario: Scenario, topology: Topology): Record<string, unknown> {
  const shaping = shapingFor(scenario.links, topology);
  const mgmt = mgmtPlan(topology.nodes.length);
  const coordinatorIp = mgmt.address(0);
  const scenarioBind = `scenario.yaml:${SCENARIO_PATH}:ro`;

  const nodes: Record<string, unknown> = {
    [COORDINATOR]: {
      kind: 'linux',
      image: IMAGE,
      'mgmt-ipv4': coordinatorIp,
      cmd: coordinatorArgs().join(' '),
      binds: [scenarioBind, `out:${REPORT_DIR}`],
    },
  };
  topology.nodes.forEach((node, n) => {
    const exec: string[] = [];
    topology.links.forEach((l, i) => {
      const s = linkSubnet(i);
      if (l.a === node.name) exec.push(`ip addr add ${s.a}/${LINK_PREFIX} dev ${interfaceOf(l.aPort)}`);
      if (l.b === node.name) exec.push(`ip addr add ${s.b}/${LINK_PREFIX} dev ${interfaceOf(l.bPort)}`);
    });
    nodes[node.name] = {
      kind: 'linux',
      image: IMAGE,
      'mgmt-ipv4': mgmt.address(n + 1),
      cmd: nodeArgs(node.name, coordinatorIp, shaping).join(' '),
      binds: [scenarioBind],
      // `ip addr add` (and tc, with kernel shaping) need it; the node process retries binding
      // its link addresses until these have run.
      'cap-add': ['NET_ADMIN'],
      exec,
    };
  });

  return {
    name: labName(scenario.name),
    mgmt: { network: MGMT_NETWORK, 'ipv4-subnet': mgmt.subnet },
    topology: {
      nodes,
      links: topology.links.map((l) => ({ endpoints: [`${l.a}:${interfaceOf(l.aPort)}`, `${l.b}:${interfaceOf(l.bPort)}`] })),
    },
  };
}

/** The topology file as text, each link commented with its addresses. */
export function containerlabYaml(scenario: Scenario, topology: Topology): string {
  const doc = new Document(containerlabObject(scenario, topology), { aliasDuplicateObjects: false });
  doc.commentBefore = [
    ` ina: scenario "${scenario.name}", every node its own container (written by \`ina export --format containerlab\`).`,
    ` Run:  docker build -t ${IMAGE} <project root> && sudo containerlab deploy -t <this file>`,
    ` Link i is a /29 (${linkSubnet(0).subnet}, then every 8 addresses): side a .2, side b .3, UDP port ${DATA_PORT};`,
    ` node port p is interface eth{p+1}. The coordinator listens on its management address.`,
  ].join('\n');
  const links = doc.getIn(['topology', 'links']);
  if (isSeq(links)) {
    topology.links.forEach((l, i) => {
      const item = links.items[i];
      if (!isMap(item)) return;
      const s = linkSubnet(i);
      const down = linkIsDown(scenario.links, l.a, l.b) ? ' — down: wired, but the nodes treat it as cut' : '';
      item.commentBefore = ` link ${i}: ${l.a} ${s.a} <-> ${l.b} ${s.b} (${s.subnet}), ${l.tier}${down}`;
      const endpoints = item.get('endpoints', true);
      if (isSeq(endpoints)) endpoints.flow = true;
    });
  }
  return doc.toString({ lineWidth: 0 });
}
