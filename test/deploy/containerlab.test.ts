import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { linkSubnet } from '../../src/cluster/link-addresses.js';
import { labName, mgmtPlan } from '../../src/deploy/containerlab.js';
import { exportScenario } from '../../src/deploy/export.js';
import { FAT_TREE, LINK_DOWN, QUICKSTART, scratchDir, topologyOf } from './helpers.js';

const scratch = scratchDir('clab');
afterAll(() => scratch.cleanup());

interface ClabNode {
  kind: string;
  image: string;
  'mgmt-ipv4': string;
  cmd: string;
  binds: string[];
  exec?: string[];
}
interface Clab {
  name: string;
  mgmt: { network: string; 'ipv4-subnet': string };
  topology: { nodes: Record<string, ClabNode>; links: Array<{ endpoints: [string, string] }> };
}

describe.each([QUICKSTART, FAT_TREE, LINK_DOWN])('containerlab export of %s', (file) => {
  const dir = join(scratch.dir, file.replace(/\W+/g, '-'));
  const result = exportScenario(file, 'containerlab', dir);
  const clab = parse(readFileSync(join(dir, result.topologyFile), 'utf8')) as Clab;
  const topo = topologyOf(file);

  it('is named for the scenario', () => {
    expect(result.topologyFile).toBe(`${clab.name}.clab.yml`);
    expect(clab.mgmt['ipv4-subnet']).toBe('172.30.0.0/24');
  });

  it('has the coordinator and every node, on distinct management addresses', () => {
    const nodes = clab.topology.nodes;
    expect(Object.keys(nodes)).toEqual(['coordinator', ...topo.nodes.map((n) => n.name)]);
    const coordinatorIp = nodes.coordinator!['mgmt-ipv4'];
    expect(coordinatorIp).toBe('172.30.0.2');
    expect(nodes.coordinator!.cmd).toMatch(/^up \/ina\/scenario\.yaml --mode attach --listen tcp:0\.0\.0\.0:7000 /);
    for (const n of topo.nodes) {
      const node = nodes[n.name]!;
      expect(node.kind).toBe('linux');
      expect(node.image).toBe('ina:latest');
      expect(node.cmd).toContain(`--node ${n.name} --control tcp:${coordinatorIp}:7000 --addressing links`);
      expect(node.binds).toContain('scenario.yaml:/ina/scenario.yaml:ro');
    }
    const ips = Object.values(nodes).map((n) => n['mgmt-ipv4']);
    expect(new Set(ips).size).toBe(ips.length);
  });

  it('has one link per topology link, port p on eth{p+1}', () => {
    expect(clab.topology.links.map((l) => l.endpoints)).toEqual(topo.links.map((l) => [`${l.a}:eth${l.aPort + 1}`, `${l.b}:eth${l.bPort + 1}`]));
  });

  it('adds exactly the plan addresses to each node', () => {
    const expected = new Map<string, string[]>(topo.nodes.map((n) => [n.name, []]));
    topo.links.forEach((l, i) => {
      const s = linkSubnet(i);
      expected.get(l.a)!.push(`ip addr add ${s.a}/29 dev eth${l.aPort + 1}`);
      expected.get(l.b)!.push(`ip addr add ${s.b}/29 dev eth${l.bPort + 1}`);
    });
    for (const [name, cmds] of expected) expect((clab.topology.nodes[name]!.exec ?? []).slice().sort()).toEqual(cmds.sort());
  });
});

describe('containerlab helpers', () => {
  it('widens the management network for big fabrics', () => {
    expect(mgmtPlan(250).subnet).toBe('172.30.0.0/24');
    expect(mgmtPlan(300).subnet).toBe('172.30.0.0/23');
    expect(mgmtPlan(300).address(299)).toBe('172.30.1.45');
    expect(() => mgmtPlan(70_000)).toThrow(/\/16/);
  });

  it('makes a lab name Docker accepts', () => {
    expect(labName('my lab/1')).toBe('my-lab-1');
    expect(labName('--x')).toBe('x');
    expect(labName('***')).toBe('ina');
  });
});
