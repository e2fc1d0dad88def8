/**
 * Scenario problems found at load, with the right bound, once (issue 12.6): `bytes: -1`, a
 * 20-digit seed, and `down` overrides that cut the fabric apart (before: accepted, then a
 * run with lost pings and exit 1).
 */
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { scenarioErrorOf } from './helpers.js';

const FILE = 's.yaml';

const errorOf = (text: string): ScenarioError => scenarioErrorOf(text, FILE);

describe('bounds in messages', () => {
  it('bytes: -1 names the field bound (at least 1 byte), as bytes: 0 does', () => {
    const bad = (v: string) => errorOf(`name: a\nworkloads: [{ kind: allreduce, bytes: ${v} }]\n`).message;
    expect(bad('-1')).toBe('s.yaml: workloads[0].bytes: expected a size of at least 1 byte, got -1');
    expect(bad('0')).toBe('s.yaml: workloads[0].bytes: expected a size of at least 1 byte, got 0');
    expect(errorOf('name: a\nlinks: { ecnThresholdBytes: -5 }\n').message).toBe('s.yaml: links.ecnThresholdBytes: expected a size of at least 0 bytes, got -5');
  });

  it('a 20-digit seed is one problem, saying why the number reads back changed', () => {
    const err = errorOf('name: a\nseed: 12345678901234567890\n');
    expect(err.message.split('\n')).toEqual(['s.yaml: seed: expected an integer in 0..4294967295, got 12345678901234567000 (too large to be read exactly)']);
  });
});

describe('a fabric cut apart by down links is refused at load', () => {
  const leafSpine = 'name: a\ntopology: { kind: leaf-spine, leaves: 3, spines: 2, hostsPerLeaf: 2 }\n';
  it('a leaf with every uplink down: the parts and an unreachable pair are named', () => {
    const err = errorOf(`${leafSpine}links:\n  overrides:\n    - { between: [leaf0, spine0], down: true }\n    - { between: [spine1, leaf0], down: true }\n`);
    expect(err.message).toBe(
      's.yaml: links.overrides: expected links down that leave every host able to reach every other, got [["leaf0","spine0"],["spine1","leaf0"]] ' +
        '(they cut the hosts into 2 parts: h0, h1 | h2..h5; h0 cannot reach h2)',
    );
    expect(err.problems[0]!.line).toBe(5); // the overrides list
  });

  it('a fat-tree pod cut off from the cores, one link at a time', () => {
    // k = 4: pod 0's aggs agg0_0, agg0_1 each have 2 uplinks to cores
    const cut = ['agg0_0', 'core0', 'agg0_0', 'core1', 'agg0_1', 'core2', 'agg0_1', 'core3'];
    let text = 'name: a\ntopology: { kind: fat-tree, k: 4 }\nlinks:\n  overrides:\n';
    for (let i = 0; i < cut.length; i += 2) text += `    - { between: [${cut[i]}, ${cut[i + 1]}], down: true }\n`;
    expect(errorOf(text).message).toMatch(/cut the hosts into 2 parts: h0\.\.h3 \| h4\.\.h15; h0 cannot reach h4\)$/);
  });

  it('links down that leave a path, or brought back up by a later override, are accepted', () => {
    expect(() => parseScenario(`${leafSpine}links:\n  overrides:\n    - { between: [leaf0, spine0], down: true }\n`, FILE)).not.toThrow();
    const back = `${leafSpine}links:\n  overrides:\n    - { between: [leaf0, spine0], down: true }\n    - { between: [leaf0, spine1], down: true }\n    - { between: [leaf0, spine1], down: false }\n`;
    expect(() => parseScenario(back, FILE)).not.toThrow();
  });
});
