/**
 * Bounded input (issue 12.5): a scenario file of any size or shape costs the loader linear
 * time and ends in a listed, capped ScenarioError, never a stack overflow or megabytes of
 * messages.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { loadScenario, parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { scenarioErrorOf } from './helpers.js';
import { MAX_PROBLEMS_LISTED } from '../../src/scenario/problem.js';
import { duplicateKeys, MAX_NESTING, MAX_SCENARIO_BYTES, tooDeep } from '../../src/scenario/yaml-limits.js';

const FILE = 'big.yaml';

const errorOf = (text: string): ScenarioError => scenarioErrorOf(text, FILE);

const lines = (e: Error) => e.message.split('\n');

describe('problems are capped', () => {
  it('2000 unknown keys: the first 20 listed, then one line counting the rest', () => {
    let text = 'name: x\n';
    for (let i = 0; i < 2000; i++) text += `unknown${i}: 1\n`;
    const err = errorOf(text);
    expect(err.problems).toHaveLength(MAX_PROBLEMS_LISTED);
    expect(err.unlisted).toBe(2000 - MAX_PROBLEMS_LISTED);
    expect(lines(err)).toHaveLength(MAX_PROBLEMS_LISTED + 1);
    expect(lines(err)[0]).toMatch(/^big\.yaml: unknown0: unknown key; expected one of the keys name, /);
    expect(lines(err)[0]).not.toContain('did you mean'); // a guess only when close
    expect(lines(err).at(-1)).toBe(`big.yaml: … and 1980 more problems (only the first 20 are listed)`);
    // the listed ones are still placed in the file
    expect(err.problems.map((p) => p.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  });

  it('1000 repeated keys: capped the same way, each naming where the key first was', () => {
    const text = 'name: x\n' + 'seed: 1\n'.repeat(1001);
    const err = errorOf(text);
    expect(lines(err)).toHaveLength(MAX_PROBLEMS_LISTED + 1);
    expect(lines(err)[0]).toBe('big.yaml:3:1: Map keys must be unique; "seed" is already at line 2');
    expect(lines(err).at(-1)).toBe('big.yaml: … and 980 more problems (only the first 20 are listed)');
  });

  it('under the cap nothing is counted', () => {
    const err = errorOf('name: a\nmode: fast\n');
    expect(err.unlisted).toBe(0);
    expect(lines(err)).toEqual(['big.yaml: mode: expected one of udp, sim, got "fast"']);
  });
});

describe('duplicate keys, found linearly', () => {
  // reference: the yaml package's own (quadratic) uniqueKeys check, on small maps
  const arbMap = fc.array(fc.constantFrom('a', 'b', 'c', 'name', '1', 'x y'), { minLength: 1, maxLength: 12 });
  it('finds exactly the repeats the yaml package reports, at the same positions', () => {
    fc.assert(
      fc.property(arbMap, arbMap, (top, nested) => {
        const text = top.map((k) => `"${k}": 1\n`).join('') + 'inner:\n' + nested.map((k) => `  "${k}": [1]\n`).join('');
        const lc = new LineCounter();
        const strict = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
        const expected = strict.errors.filter((e) => e.code === 'DUPLICATE_KEY').map((e) => e.pos[0]);
        const got = duplicateKeys(parseDocument(text, { uniqueKeys: false })).map((d) => d.offset);
        expect(got.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });
});

describe('size and nesting are bounded', () => {
  it('a file over 1 MiB is refused before it is read, naming the limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ina-limits-'));
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, `name: huge\n# ${'x'.repeat(MAX_SCENARIO_BYTES)}\n`);
    expect(() => loadScenario(file)).toThrow(ScenarioError);
    expect(() => loadScenario(file)).toThrow(`${file}: expected a scenario file of at most 1.0 MiB, got 1.0 MiB`);
    expect(() => parseScenario(`name: huge\n# ${'x'.repeat(2 * MAX_SCENARIO_BYTES)}\n`, 'in.yaml')).toThrow(
      'in.yaml: expected a scenario file of at most 1.0 MiB, got 2.0 MiB',
    );
  });

  it('5000 nested flow lists and 1000 nested block mappings are scenario errors, not stack overflows', () => {
    const flow = errorOf(`name: x\nlinks: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    // the top-level mapping is level 1, so level 65 is the 64th bracket, from column 8
    expect(lines(flow)).toEqual([`big.yaml:2:${7 + MAX_NESTING}: nesting too deep; expected at most 64 levels of nested mappings and lists`]);
    let block = 'name: x\nlinks:\n';
    for (let i = 0; i < 1000; i++) block += `${' '.repeat(i + 1)}k${i}:\n`;
    const err = errorOf(block);
    expect(err.message).toMatch(/^big\.yaml:\d+:\d+: nesting too deep; expected at most 64 levels/);
    expect(err.message).not.toMatch(/call stack/i);
  });

  it('the depth counts mappings and lists, keys included, and stops at the limit', () => {
    expect(tooDeep('a: [[[1]]]\n', 4)).toBeUndefined();
    expect(tooDeep('a: [[[[1]]]]\n', 4)).toEqual({ line: 1, column: 7 });
    expect(tooDeep('? [[1]]\n: 1\n', 3)).toBeUndefined();
    expect(tooDeep('? [[[1]]]\n: 1\n', 3)).toEqual({ line: 1, column: 5 });
    expect(tooDeep('- - - x\n', 3)).toBeUndefined();
    expect(tooDeep('- - - - x\n', 3)).toBeDefined();
  });
});
