/**
 * The scenario format's generated artefacts stay true to the zod schema: the README's reference,
 * schema/scenario.schema.json, `ina schema`, and the editor line of every scenario file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../src/cli.js';
import { SCHEMA_FILE, scenarioJsonSchema, schemaFileText, type JsonSchema } from '../../src/scenario/json-schema.js';
import { loadScenario, ScenarioError, validateScenario } from '../../src/scenario/load.js';
import { referenceIn, renderReference } from '../../src/scenario/reference.js';
import { ROOT } from '../cli/helpers.js';

const EDITOR_LINE = '# yaml-language-server: $schema=../schema/scenario.schema.json';
const SCENARIOS = readdirSync(join(ROOT, 'scenarios'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join('scenarios', f));
const OUT_OF_DATE = 'out of date: run `npm run docs:scenario` and commit the result';

afterEach(() => vi.restoreAllMocks());

describe('generated from the zod schema', () => {
  it("the README's scenario reference is current", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(referenceIn(readme), `README.md's scenario reference is ${OUT_OF_DATE}`).toBe(renderReference(scenarioJsonSchema()));
  });

  it('schema/scenario.schema.json is current', () => {
    expect(readFileSync(join(ROOT, SCHEMA_FILE), 'utf8'), `${SCHEMA_FILE} is ${OUT_OF_DATE}`).toBe(schemaFileText());
  });

  it('ina schema prints that file', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
    expect(await main(['node', 'ina', 'schema'])).toBe(0);
    vi.restoreAllMocks();
    expect(out).toBe(readFileSync(join(ROOT, SCHEMA_FILE), 'utf8'));
  });

  it('the reference has a row for every key of every section and workload kind, each with a meaning', () => {
    const reference = renderReference(scenarioJsonSchema());
    const keys: string[] = [];
    const walk = (s: JsonSchema, prefix: string): void => {
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      for (const [k, v] of Object.entries(props)) {
        const items = v.items as JsonSchema | undefined;
        if (v.type === 'object') walk(v, `${prefix}${k}.`);
        else if (items?.type === 'object') walk(items, '');
        else if (items && Array.isArray((items as { oneOf?: unknown }).oneOf)) for (const kind of (items as { oneOf: JsonSchema[] }).oneOf) walk(kind, '');
        keys.push(`${prefix}${k}`);
      }
    };
    walk(scenarioJsonSchema(), '');
    // the keys nobody should miss, and the nested ones the flattening names
    expect(keys).toEqual(expect.arrayContaining(['name', 'topology.hostsPerLeaf', 'links.queueBytes', 'between', 'switches.drill.d', 'switches.aggregation.elementsPerPacket', 'capacityFactor', 'sizeScale']));
    const rows = reference.split('\n').filter((l) => l.startsWith('| `'));
    const described = new Set(rows.filter((l) => !l.endsWith('|  |')).map((l) => /^\| `([^`]+)`/.exec(l)![1]!));
    for (const key of keys) {
      if (key === 'topology' || key === 'links' || key === 'switches' || key === 'workloads' || key === 'switches.drill' || key === 'switches.aggregation') continue;
      // rows name keys relative to their table: links.queueBytes is `queueBytes` under `links`
      const row = key.replace(/^(topology|links|switches)\./, '');
      expect(described, `a described row for ${key}`).toContain(row);
    }
  });
});

describe('scenario files and the JSON Schema', () => {
  const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(scenarioJsonSchema());

  it.each(SCENARIOS)('%s names the schema for editors, still loads, and the JSON Schema accepts it', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    expect(text.split('\n')[0]).toBe(EDITOR_LINE);
    expect(() => loadScenario(file)).not.toThrow();
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects what the loader rejects, key by key', () => {
    const cases: unknown[] = [
      { name: 'x', topology: { kind: 'leaf-spine', hostPerLeaf: 4 } }, // typo
      { name: 'x', switches: { loadBalancing: 'l3' } }, // not a load-balancing scheme
      { name: 'x', links: { lossRate: 1.5 } },
      { name: 'x', topology: { kind: 'fat-tree', k: 5 } },
      { name: 'x', links: { queueBytes: '4 megs' } },
      { name: 'x', workloads: [{ kind: 'allreduce', algorithms: ['ring', 'nccl'] }] },
      { name: 'x', workloads: [{ kind: 'flows', load: 0 }] },
      { mode: 'sim' }, // no name
    ];
    for (const c of cases) {
      expect(validate(c), JSON.stringify(c)).toBe(false);
      expect(() => validateScenario(c), JSON.stringify(c)).toThrow(ScenarioError);
    }
  });

  it('accepts sizes as people write them, as the loader does', () => {
    for (const queueBytes of [65536, '64KiB', '1.5MiB', '100KB']) {
      const c = { name: 'x', links: { queueBytes } };
      expect(validate(c), String(queueBytes)).toBe(true);
      expect(() => validateScenario(c)).not.toThrow();
    }
  });
});
