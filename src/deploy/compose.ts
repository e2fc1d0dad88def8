/**
 * A Docker Compose project for a scenario: every node (switch or host) its own container, plus
 * the coordinator (`ina up --mode attach`) that waits for them, runs the workloads and writes
 * the report to ./out.
 *
 * Every topology link is its own Docker network holding exactly its two endpoints, at the
 * addresses of the `links` plan (src/cluster/link-addresses.ts), so a datagram between two
 * nodes can only cross the link the topology says it crosses. The `control` network carries
 * only the coordinator's TCP control connections.
 */
import { Document, isMap, isScalar, isSeq, type Scalar, type YAMLMap } from 'yaml';
import { linkSubnet, DATA_PORT } from '../cluster/link-addresses.js';
import { linkIsDown } from '../run/fabric.js';
import type { Scenario } from '../scenario/schema.js';
import { attachmentOf, type Topology } from '../topology/types.js';
import { IMAGE } from './dockerfile.js';
import { coordinatorArgs, nodeArgs, READY_FILE, REPORT_DIR, SCENARIO_PATH } from './node-commands.js';
import { shapingFor } from './shaping.js';

export const COORDINATOR = 'coordinator';
export const CONTROL_NETWORK = 'control';
export const linkNetwork = (index: number): string => `link${index}`;

export interface ComposeOptions {
  /** compose's `build` section, relative to the compose file (see dockerfile.ts) */
  build: { context: string; dockerfile: string };
}

type Service = Record<string, unknown>;

export function composeObject(scenario: Scenario, topology: Topology, opts: ComposeOptions): { services: Record<string, Service>; networks: Record<string, unknown> } {
  const shaping = shapingFor(scenario.links, topology);
  // Every service names both the build and the tag, so `up --build` builds the image once
  // (the rest is cache) and nothing tries to pull ina:latest from a registry.
  const common = { build: opts.build, image: IMAGE, volumes: [`./scenario.yaml:${SCENARIO_PATH}:ro`] };

  const services: Record<string, Service> = {
    [COORDINATOR]: { ...common, command: coordinatorArgs(), volumes: [...common.volumes, `./out:${REPORT_DIR}`], networks: { [CONTROL_NETWORK]: {} } },
  };
  for (const node of topology.nodes) {
    const networks: Record<string, unknown> = { [CONTROL_NETWORK]: {} };
    topology.links.forEach((l, i) => {
      if (l.a === node.name) networks[linkNetwork(i)] = { ipv4_address: linkSubnet(i).a };
      if (l.b === node.name) networks[linkNetwork(i)] = { ipv4_address: linkSubnet(i).b };
    });
    // Switches once the coordinator listens (they retry anyway; this only saves noise); a
    // host once its switch is ready, so its first frames have somewhere to go.
    const dependsOn =
      node.role === 'switch' ? { [COORDINATOR]: { condition: 'service_started' } } : { [attachmentOf(topology, node.name).switch]: { condition: 'service_healthy' } };
    services[node.name] = {
      ...common,
      command: nodeArgs(node.name, COORDINATOR, shaping),
      networks,
      healthcheck: { test: ['CMD', 'test', '-f', READY_FILE], interval: '1s', timeout: '2s', retries: 120 },
      depends_on: dependsOn,
      ...(shaping === 'kernel' ? { cap_add: ['NET_ADMIN'] } : {}),
    };
  }

  const networks: Record<string, unknown> = { [CONTROL_NETWORK]: {} };
  topology.links.forEach((_l, i) => {
    const s = linkSubnet(i);
    // internal: no route to the outside world; a link is a cable, not an uplink.
    networks[linkNetwork(i)] = { internal: true, ipam: { config: [{ subnet: s.subnet, gateway: s.gateway }] } };
  });
  return { services, networks };
}

/** The compose file as text, with comments naming each link's endpoints and addresses. */
export function composeYaml(scenario: Scenario, topology: Topology, opts: ComposeOptions): string {
  // No anchors: every service spelled out reads better than &a1 / *a1.
  const doc = new Document(composeObject(scenario, topology, opts), { aliasDuplicateObjects: false });
  const shaping = shapingFor(scenario.links, topology);
  doc.commentBefore = [
    ` ina: scenario "${scenario.name}", every node its own container (written by \`ina export --format compose\`).`,
    ` Run:  docker compose up --build --exit-code-from ${COORDINATOR}     report: ./out/report.json`,
    ` Each topology link i is network link{i}, a /29: .1 Docker's gateway, .2 the link's side a,`,
    ` .3 side b; nodes exchange UDP on port ${DATA_PORT}. Network ${CONTROL_NETWORK} carries only the`,
    ` coordinator's control connections (${COORDINATOR}:7000). Link shaping: ${shaping}` +
      (shaping === 'kernel' ? ' (tc in each node, hence NET_ADMIN).' : ' (no link asks for any).'),
  ].join('\n');

  const networks = doc.get('networks');
  if (isMap(networks)) {
    topology.links.forEach((l, i) => {
      const s = linkSubnet(i);
      const down = linkIsDown(scenario.links, l.a, l.b) ? ' — down: wired, but the nodes treat it as cut' : '';
      keyOf(networks, linkNetwork(i)).commentBefore = ` ${l.a} port ${l.aPort} (${s.a}) <-> ${l.b} port ${l.bPort} (${s.b}), ${l.tier}${down}`;
    });
  }
  // Commands read better on one line.
  const services = doc.get('services');
  if (isMap(services)) {
    for (const pair of services.items) {
      if (!isMap(pair.value)) continue;
      const command = pair.value.get('command', true);
      if (isSeq(command)) command.flow = true;
      const test = pair.value.getIn(['healthcheck', 'test'], true);
      if (isSeq(test)) test.flow = true;
    }
  }
  return doc.toString({ lineWidth: 0 });
}

function keyOf(map: YAMLMap, key: string): Scalar {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (!pair || !isScalar(pair.key)) throw new Error(`no key ${key}`);
  return pair.key;
}
