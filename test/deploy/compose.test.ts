import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { linkSubnet } from '../../src/cluster/link-addresses.js';
import { exportScenario } from '../../src/deploy/export.js';
import { FAT_TREE, LINK_DOWN, QUICKSTART, scratchDir, topologyOf } from './helpers.js';
import { composeSpecErrors, dockerComposeConfig, HAS_DOCKER_COMPOSE } from './compose-spec.js';
import { skipUnless } from '../skip-unless.js';

const scratch = scratchDir('compose');
afterAll(() => scratch.cleanup());

interface Compose {
  services: Record<string, { command: string[]; networks: Record<string, { ipv4_address?: string } | null>; depends_on?: Record<string, { condition: string }>; cap_add?: string[]; healthcheck?: { test: string[] } }>;
  networks: Record<string, { internal?: boolean; ipam?: { config: Array<{ subnet: string; gateway: string }> } } | null>;
}

describe.each([QUICKSTART, FAT_TREE, LINK_DOWN])('compose export of %s', (file) => {
  const dir = join(scratch.dir, file.replace(/\W+/g, '-'));
  const result = exportScenario(file, 'compose', dir);
  const compose = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Compose;
  const topo = topologyOf(file);

  it('writes a self-contained directory', () => {
    for (const f of ['Dockerfile', 'scenario.yaml', 'compose.yaml', 'README.md', 'out']) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(result.topologyFile).toBe('compose.yaml');
    expect(readFileSync(join(dir, 'scenario.yaml'), 'utf8')).toBe(readFileSync(file, 'utf8'));
  });

  it('conforms to the Compose Specification schema', () => {
    expect(composeSpecErrors(compose)).toEqual([]);
  });

  it('passes docker-compose config', (ctx) => {
    skipUnless(ctx, HAS_DOCKER_COMPOSE, 'needs docker-compose, not installed (the Compose Specification schema check runs without it)');
    dockerComposeConfig(dir);
  });

  it('has a service per node plus the coordinator', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['coordinator', ...topo.nodes.map((n) => n.name)].sort());
    expect(compose.services.coordinator!.command.slice(0, 4)).toEqual(['up', '/ina/scenario.yaml', '--mode', 'attach']);
    for (const n of topo.nodes) {
      const s = compose.services[n.name]!;
      expect(s.command).toContain('--node');
      expect(s.command[s.command.indexOf('--node') + 1]).toBe(n.name);
      expect(s.command[s.command.indexOf('--control') + 1]).toBe('tcp:coordinator:7000');
      expect(s.networks).toHaveProperty('control');
      expect(s.healthcheck?.test).toEqual(['CMD', 'test', '-f', '/tmp/ina-ready']);
      // hosts wait for their switch to be ready, switches for the coordinator to start
      const deps = Object.entries(s.depends_on ?? {});
      expect(deps).toHaveLength(1);
      if (n.role === 'host') expect(deps[0]![1].condition).toBe('service_healthy');
      else expect(deps[0]).toEqual(['coordinator', { condition: 'service_started' }]);
    }
  });

  it('gives every link a network holding both endpoints at the plan addresses', () => {
    const linkNets = Object.keys(compose.networks).filter((k) => k.startsWith('link'));
    expect(linkNets).toHaveLength(topo.links.length);
    topo.links.forEach((l, i) => {
      const s = linkSubnet(i);
      expect(compose.networks[`link${i}`]?.ipam?.config).toEqual([{ subnet: s.subnet, gateway: s.gateway }]);
      expect(compose.networks[`link${i}`]?.internal).toBe(true);
      expect(compose.services[l.a]!.networks[`link${i}`]).toEqual({ ipv4_address: s.a });
      expect(compose.services[l.b]!.networks[`link${i}`]).toEqual({ ipv4_address: s.b });
    });
    // and nobody else is on it
    const onLinks = Object.values(compose.services).flatMap((s) => Object.keys(s.networks).filter((k) => k.startsWith('link')));
    expect(onLinks).toHaveLength(2 * topo.links.length);
  });

  it('uses every data address once', () => {
    const addrs = Object.values(compose.services).flatMap((s) => Object.values(s.networks).flatMap((v) => (v?.ipv4_address ? [v.ipv4_address] : [])));
    expect(addrs).toHaveLength(2 * topo.links.length);
    expect(new Set(addrs).size).toBe(addrs.length);
  });
});

describe('the Compose Specification check', () => {
  const dir = join(scratch.dir, 'spec-check');
  exportScenario(QUICKSTART, 'compose', dir);
  const good = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Compose;

  it('rejects what docker-compose would: an unknown service key, a network address that is not a string, a link network that is not a mapping', () => {
    const typo = structuredClone(good) as unknown as { services: Record<string, Record<string, unknown>> };
    typo.services.leaf0!.netwroks = typo.services.leaf0!.networks;
    expect(composeSpecErrors(typo)).toContain('/services/leaf0 must NOT have additional properties (netwroks)');

    const address = structuredClone(good);
    address.services.h0!.networks.link0 = { ipv4_address: 10 as unknown as string };
    expect(composeSpecErrors(address).join('\n')).toMatch(/ipv4_address must be string/);

    const network = structuredClone(good) as unknown as { networks: Record<string, unknown> };
    network.networks.link0 = ['internal'];
    expect(composeSpecErrors(network).join('\n')).toMatch(/^\/networks\/link0 /m);
  });
});

describe('compose shaping', () => {
  it('uses software shaping and no capability when no link is shaped', () => {
    const dir = join(scratch.dir, 'shaping-quickstart');
    exportScenario(QUICKSTART, 'compose', dir);
    const c = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Compose;
    expect(c.services.leaf0!.command).toContain('software');
    expect(Object.values(c.services).some((s) => s.cap_add)).toBe(false);
  });

  it('uses kernel shaping with NET_ADMIN on nodes only when links are shaped', () => {
    const dir = join(scratch.dir, 'shaping-fat-tree');
    exportScenario(FAT_TREE, 'compose', dir);
    const c = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Compose;
    for (const [name, s] of Object.entries(c.services)) {
      if (name === 'coordinator') expect(s.cap_add).toBeUndefined();
      else {
        expect(s.cap_add).toEqual(['NET_ADMIN']);
        expect(s.command[s.command.indexOf('--shaping') + 1]).toBe('kernel');
      }
    }
  });

  it('still exports a down link, marked in a comment', () => {
    const dir = join(scratch.dir, 'down');
    exportScenario(LINK_DOWN, 'compose', dir);
    const text = readFileSync(join(dir, 'compose.yaml'), 'utf8');
    expect(text).toMatch(/# leaf0 port \d+ \([\d.]+\) <-> spine0 port \d+ \([\d.]+\), leaf-spine — down/);
  });
});
