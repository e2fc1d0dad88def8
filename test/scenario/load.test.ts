import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { linkSettingsFor } from '../../src/scenario/link-settings.js';
import { resolveHosts } from '../../src/scenario/host-selector.js';
import { loadScenario, parseScenario, ScenarioError, validateScenario } from '../../src/scenario/load.js';
import { scenarioErrorOf } from './helpers.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { buildTopology } from '../../src/topology/from-spec.js';

const FILE = 'broken.yaml';
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const errorOf = (text: string): ScenarioError => scenarioErrorOf(text, FILE);

describe('the contract example', () => {
  it('parses, with what it says', () => {
    const s = loadScenario(fixture('contract-example.yaml'));
    expect(s.name).toBe('quickstart');
    expect(s.topology).toEqual({ kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 });
    expect(s.links.overrides).toEqual([{ between: ['leaf0', 'spine1'], rateGbps: 0.25 }]);
    expect(s.links.queueBytes).toBe(1048576);
    expect(s.switches).toEqual({ loadBalancing: 'ecmp', flowletGapUs: 100, drill: { d: 2, m: 1 }, aggregation: { slots: 512, elementsPerPacket: 64 } });
    expect(s.workloads.map((w) => w.kind)).toEqual(['pingall', 'allreduce', 'moe', 'flows']);
    const [, allreduce, moe, flows] = s.workloads;
    expect(allreduce).toMatchObject({ algorithms: ['ring', 'switchml', 'sharp'], bytes: 4194304, dtype: 'float32', iterations: 3, workers: 'all' });
    expect(moe).toMatchObject({ capacityFactor: 1.25, dropPolicy: 'probs', skew: 1, ranks: 'all', loadBalancing: ['ecmp'] });
    expect(flows).toMatchObject({ distribution: 'websearch', sizeBytes: 1048576, load: 0.6, count: 2000, pattern: 'all-to-all', loadBalancing: ['ecmp'] });
  });
});

describe('defaults', () => {
  it('fills every default from a name alone', () => {
    const s = parseScenario('name: bare\n', 'bare.yaml');
    expect(s).toEqual({
      name: 'bare',
      mode: 'udp',
      seed: 1,
      topology: { kind: 'star', hosts: 4 },
      links: { rateGbps: 0, delayUs: 0, jitterUs: 0, lossRate: 0, reorderRate: 0, duplicateRate: 0, queueBytes: 1048576, ecnThresholdBytes: 0, overrides: [] },
      switches: { loadBalancing: 'ecmp', flowletGapUs: 100, drill: { d: 2, m: 1 }, aggregation: { slots: 512, elementsPerPacket: 64 } },
      workloads: [],
    } satisfies Scenario);
  });

  it('fills per-kind topology defaults', () => {
    expect(parseScenario('name: a\ntopology: { kind: leaf-spine }', 'f').topology).toEqual({ kind: 'leaf-spine', leaves: 2, spines: 2, hostsPerLeaf: 4 });
    expect(parseScenario('name: a\ntopology: { kind: fat-tree }', 'f').topology).toEqual({ kind: 'fat-tree', k: 4 });
    expect(parseScenario('name: a\ntopology: { kind: star, hosts: 9 }', 'f').topology).toEqual({ kind: 'star', hosts: 9 });
  });

  it('fills every workload default', () => {
    const s = parseScenario(
      ['name: w', 'switches: { loadBalancing: drill }', 'workloads:', '  - kind: pingall', '  - kind: allreduce', '  - kind: moe', '  - kind: flows', '    loadBalancing: [ecmp, conga]', '    group: g'].join('\n'),
      'w.yaml',
    );
    expect(s.workloads).toEqual([
      { kind: 'pingall', count: 3 },
      { kind: 'allreduce', algorithms: ['ring', 'switchml'], bytes: 4194304, dtype: 'float32', iterations: 3, workers: 'all' },
      {
        kind: 'moe',
        tokensPerRank: 1024,
        hidden: 512,
        experts: 16,
        topK: 2,
        capacityFactor: null,
        dropPolicy: 'probs',
        skew: 1,
        ranks: 'all',
        loadBalancing: ['drill'],
      },
      { kind: 'flows', distribution: 'websearch', sizeBytes: 1048576, load: 0.6, count: 1000, pattern: 'all-to-all', loadBalancing: ['ecmp', 'conga'], group: 'g' },
    ]);
  });

  it('accepts selections at the boundary', () => {
    const s = parseScenario('name: a\nworkloads: [{ kind: allreduce, workers: 4 }, { kind: allreduce, workers: 2 }, { kind: moe, ranks: [h3, h0] }]', 'f');
    expect(s.workloads.map((w) => (w.kind === 'allreduce' ? w.workers : w.kind === 'moe' ? w.ranks : null))).toEqual([4, 2, ['h3', 'h0']]);
  });

  it('accepts byte sizes in link settings and null capacity', () => {
    const s = parseScenario('name: a\nlinks: { queueBytes: 64KiB, ecnThresholdBytes: 16KB }\nworkloads: [{ kind: moe, capacityFactor: null }]', 'f');
    expect(s.links.queueBytes).toBe(65536);
    expect(s.links.ecnThresholdBytes).toBe(16000);
    expect(s.workloads[0]).toMatchObject({ capacityFactor: null });
  });
});

/** [yaml, key path, expectation, found] — each must appear together on one line */
const BROKEN: [string, string, string, string][] = [
  ['name: a\nworkloads:\n  - kind: pingall\n  - kind: allreduce\n    bytes: 4 megs\n', 'workloads[1].bytes', 'expected an integer or a size like 4MiB', 'got "4 megs"'],
  ['mode: sim\n', 'name', 'expected a scenario name', 'but the key is missing'],
  ['name: a\nmode: fast\n', 'mode', 'expected one of udp, sim', 'got "fast"'],
  ['name: a\nseed: -3\n', 'seed', 'expected an integer in 0..4294967295', 'got -3'],
  ['name: a\ntopology: { kind: leaf-spine, hostPerLeaf: 3 }\n', 'topology.hostPerLeaf', 'unknown key (did you mean hostsPerLeaf?); expected one of the keys kind, hosts, leaves, spines, hostsPerLeaf, k', ''],
  ['name: a\nworklods: []\n', 'worklods', 'unknown key (did you mean workloads?)', ''],
  ['name: a\ntopology: { kind: ring }\n', 'topology.kind', 'expected one of star, leaf-spine, fat-tree', 'got "ring"'],
  ['name: a\ntopology: { hosts: 4 }\n', 'topology.kind', 'expected one of star, leaf-spine, fat-tree', 'but the key is missing'],
  ['name: a\ntopology: { kind: fat-tree, k: 3 }\n', 'topology.k', 'expected an even integer in 2..64', 'got 3'],
  ['name: a\ntopology: { kind: fat-tree, k: 4, hosts: 8 }\n', 'topology.hosts', 'expected 16 (k^3/4 with k = 4)', 'got 8'],
  ['name: a\ntopology: { kind: star, hosts: 0 }\n', 'topology.hosts', 'expected an integer >= 1', 'got 0'],
  ['name: a\ntopology: { kind: star, hosts: 300 }\n', 'topology.hosts', 'expected an integer in 1..254 for a star', 'got 300'],
  ['name: a\nlinks: { lossRate: 2 }\n', 'links.lossRate', 'expected a number in 0..1', 'got 2'],
  ['name: a\nlinks: { queueBytes: 0 }\n', 'links.queueBytes', 'expected a size of at least 1 byte', 'got 0'],
  ['name: a\nlinks:\n  overrides:\n    - between: [s0]\n      rateGbps: 1\n', 'links.overrides[0].between', 'expected a list of two node names', 'got ["s0"]'],
  ['name: a\nlinks:\n  overrides:\n    - between: [h0, s9]\n      rateGbps: 1\n', 'links.overrides[0].between[1]', 'expected a node of this star topology (s0, h0..h3)', 'got "s9"'],
  ['name: a\nlinks:\n  overrides:\n    - between: [h0, h1]\n      rateGbps: 1\n', 'links.overrides[0].between', 'expected two nodes joined by a link', 'got ["h0","h1"]'],
  ['name: a\nlinks:\n  overrides:\n    - between: [h0, s0]\n', 'links.overrides[0]', 'expected a link setting besides between', 'got {"between":["h0","s0"]}'],
  ['name: a\nswitches: { loadBalancing: ecnp }\n', 'switches.loadBalancing', 'expected one of ecmp, flowlet, drill, conga', 'got "ecnp"'],
  ['name: a\nswitches: { aggregation: { elementsPerPacket: 128 } }\n', 'switches.aggregation.elementsPerPacket', 'expected one of 64, 256', 'got 128'],
  ['name: a\nswitches: { drill: { d: 0 } }\n', 'switches.drill.d', 'expected an integer >= 1', 'got 0'],
  ['name: a\nworkloads: [{ kind: allreduse }]\n', 'workloads[0].kind', 'expected one of pingall, allreduce, moe, flows', 'got "allreduse"'],
  ['name: a\nworkloads: [{ count: 3 }]\n', 'workloads[0].kind', 'expected one of pingall, allreduce, moe, flows', 'but the key is missing'],
  ['name: a\nworkloads: [{ kind: pingall, cout: 3 }]\n', 'workloads[0].cout', 'unknown key (did you mean count?)', ''],
  ['name: a\nworkloads: [{ kind: allreduce, algorithms: [ring, nccl] }]\n', 'workloads[0].algorithms[1]', 'expected one of ring, switchml, sharp', 'got "nccl"'],
  ['name: a\nworkloads: [{ kind: allreduce, algorithms: [ring, ring] }]\n', 'workloads[0].algorithms[1]', 'expected distinct algorithms', 'got "ring"'],
  ['name: a\nworkloads: [{ kind: allreduce, bytes: 1001 }]\n', 'workloads[0].bytes', 'expected a multiple of 4 bytes', 'got 1001'],
  ['name: a\nworkloads: [{ kind: allreduce, dtype: float16 }]\n', 'workloads[0].dtype', 'expected one of float32, int32', 'got "float16"'],
  ['name: a\nworkloads: [{ kind: allreduce, workers: some }]\n', 'workloads[0].workers', 'expected "all", a number of hosts, or a list of host names', 'got "some"'],
  ['name: a\nworkloads: [{ kind: allreduce, workers: 9 }]\n', 'workloads[0].workers', 'expected at most 4 workers', 'got 9'],
  ['name: a\nworkloads: [{ kind: allreduce, workers: 5 }]\n', 'workloads[0].workers', 'expected at most 4 workers (the hosts of this topology)', 'got 5'],
  ['name: a\nworkloads: [{ kind: allreduce, workers: 1 }]\n', 'workloads[0].workers', 'expected at least 2 workers', 'got 1'],
  ['name: a\nworkloads: [{ kind: allreduce, workers: [h0, s0] }]\n', 'workloads[0].workers[1]', 'expected a host of this topology (h0..h3)', 'got "s0" (s0 is a switch)'],
  ['name: a\nworkloads: [{ kind: allreduce, workers: [h0, h7] }]\n', 'workloads[0].workers[1]', 'expected a host of this topology (h0..h3)', 'got "h7"'],
  ['name: a\nworkloads: [{ kind: allreduce, workers: [h0, h1, h0] }]\n', 'workloads[0].workers[2]', 'expected distinct host names', 'got "h0"'],
  ['name: a\nworkloads: [{ kind: moe, ranks: [h0, h4] }]\n', 'workloads[0].ranks[1]', 'expected a host of this topology', 'got "h4"'],
  ['name: a\nworkloads: [{ kind: moe, topK: 3, experts: 2 }]\n', 'workloads[0].topK', 'expected an integer in 1..2 (experts)', 'got 3'],
  ['name: a\nworkloads: [{ kind: moe, capacityFactor: 0 }]\n', 'workloads[0].capacityFactor', 'expected a number > 0, or null for dropless', 'got 0'],
  ['name: a\nworkloads: [{ kind: moe, dropPolicy: random }]\n', 'workloads[0].dropPolicy', 'expected one of probs, position', 'got "random"'],
  ['name: a\nworkloads: [{ kind: flows, load: 0 }]\n', 'workloads[0].load', 'expected a number in (0, 1]', 'got 0'],
  ['name: a\nworkloads: [{ kind: flows, pattern: ring }]\n', 'workloads[0].pattern', 'expected one of all-to-all, permutation, incast', 'got "ring"'],
  ['name: a\nworkloads: [{ kind: flows, loadBalancing: [spray] }]\n', 'workloads[0].loadBalancing[0]', 'expected one of ecmp, flowlet, drill, conga', 'got "spray"'],
  ['name: a\nworkloads: [{ kind: flows, sizeBytes: 1.5 }]\n', 'workloads[0].sizeBytes', 'expected a whole number of bytes', 'got 1.5'],
  ['name: a\ntopology: { kind: star, hosts: 1 }\nworkloads: [{ kind: flows }]\n', 'workloads[0].kind', 'expected a topology with at least 2 hosts for flows', 'got "flows"'],
  ['name: a\nworkloads: [{ kind: pingall, name: x }, { kind: pingall, name: x }]\n', 'workloads[1].name', 'expected a name no other workload uses', 'got "x"'],
  ['name: a\nworkloads: [{ kind: pingall, group: 3 }]\n', 'workloads[0].group', 'expected a string', 'got 3'],
  ['name: a\nworkloads: [5]\n', 'workloads[0]', 'expected a workload', 'got 5'],
  ['name: a\nworkloads: { kind: pingall }\n', 'workloads', 'expected a list of workloads', 'got {"kind":"pingall"}'],
  ['name: a\ntopology: 8\n', 'topology', 'expected a mapping', 'got 8'],
];

describe('broken scenarios', () => {
  it.each(BROKEN)('%j → %s', (text, keyPath, expectation, found) => {
    const err = errorOf(text);
    expect(err.file).toBe(FILE);
    const line = err.message.split('\n').find((l) => l.startsWith(`${FILE}: ${keyPath}: `));
    expect(line, err.message).toBeDefined();
    expect(line).toContain(expectation);
    expect(line).toContain(found);
    expect(err.problems.map((p) => p.keyPath)).toContain(keyPath);
  });

  it('reports every problem at once, one per line, each with file and position', () => {
    const err = errorOf('name: a\nmode: fast\nseed: x\ntopology: { kind: star, hostz: 3 }\n');
    expect(err.message.split('\n')).toEqual([
      `${FILE}: mode: expected one of udp, sim, got "fast"`,
      `${FILE}: seed: expected an integer in 0..4294967295, got "x"`,
      `${FILE}: topology.hostz: unknown key (did you mean hosts?); expected one of the keys kind, hosts, leaves, spines, hostsPerLeaf, k`,
    ]);
    expect(err.keyPath).toBe('mode');
    expect(err.expected).toBe('one of udp, sim');
    expect(err.problems.map((p) => [p.line, p.column])).toEqual([
      [2, 7],
      [3, 7],
      [4, 25], // the unknown key itself
    ]);
  });

  it('YAML syntax errors are FILE:LINE:COL', () => {
    expect(errorOf('name: a\nname: b\n').message).toMatch(/^broken\.yaml:2:1: Map keys must be unique/);
    expect(errorOf('name: a\nworkloads: [1, 2\n').message).toMatch(/^broken\.yaml:\d+:\d+: /);
    expect(errorOf('name: "abc\n').message).toMatch(/^broken\.yaml:2:1: Missing closing "quote/);
    expect(errorOf('name: a\n---\nname: b\n').message).toBe('broken.yaml:2:1: a scenario file holds one YAML document; found a second (---)');
    expect(errorOf('name: !weird a\n').message).toMatch(/^broken\.yaml:1:\d+: Unresolved tag/);
    expect(errorOf('name: *nothing\n').message).toMatch(/^broken\.yaml: .*alias/i);
  });

  it('an empty file or a non-mapping says so', () => {
    expect(errorOf('').message).toBe('broken.yaml: expected a mapping with at least a name, got an empty file');
    expect(errorOf('- a\n- b\n').message).toBe('broken.yaml: expected a mapping, got ["a","b"]');
  });

  it('a missing file is a ScenarioError naming it', () => {
    expect(() => loadScenario('/nonexistent/x.yaml')).toThrow(ScenarioError);
    expect(() => loadScenario('/nonexistent/x.yaml')).toThrow('/nonexistent/x.yaml: cannot read: no such file');
  });

  it('validateScenario takes objects built in code', () => {
    expect(validateScenario({ name: 'in-code', mode: 'sim' }).mode).toBe('sim');
    expect(() => validateScenario({ name: 'in-code', bogus: 1 })).toThrow('<scenario>: bogus: unknown key');
  });
});

describe('helpers the runner uses', () => {
  it('linkSettingsFor applies overrides in either direction, later ones winning', () => {
    const s = parseScenario(
      'name: a\ntopology: { kind: leaf-spine }\nlinks:\n  delayUs: 5\n  overrides:\n    - { between: [spine1, leaf0], rateGbps: 0.25, lossRate: 0.1 }\n    - { between: [leaf0, spine1], lossRate: 0.2 }\n',
      'f',
    );
    expect(linkSettingsFor(s.links, 'leaf0', 'spine1')).toMatchObject({ rateGbps: 0.25, lossRate: 0.2, delayUs: 5 });
    expect(linkSettingsFor(s.links, 'leaf0', 'spine0')).toMatchObject({ rateGbps: 0, lossRate: 0, delayUs: 5 });
    expect(linkSettingsFor(s.links, 'leaf0', 'spine0')).not.toHaveProperty('overrides');
  });

  it('resolveHosts: all, the first N, or a list', () => {
    const t = buildTopology({ kind: 'star', hosts: 4 });
    expect(resolveHosts('all', t)).toEqual(['h0', 'h1', 'h2', 'h3']);
    expect(resolveHosts(2, t)).toEqual(['h0', 'h1']);
    expect(resolveHosts(['h3', 'h1'], t)).toEqual(['h3', 'h1']);
    expect(() => resolveHosts(5, t)).toThrow();
    expect(() => resolveHosts(['s0'], t)).toThrow();
  });
});
