/**
 * From a scenario file to a validated Scenario, in three passes, each reporting every problem
 * it finds before giving up:
 *
 *   1. YAML syntax            FILE:LINE:COL: message
 *   2. schema (schema.ts)     FILE: key.path[i]: expected ..., got ...
 *   3. topology-aware checks  (checks.ts) same format
 *
 * Everything ends in a ScenarioError (the CLI maps it to exit code 2) rather than a stack trace.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import { buildTopology } from '../topology/from-spec.js';
import { checkScenario } from './checks.js';
import { placeProblem, ScenarioError, type KeyPath, type RawProblem, type ScenarioProblem } from './problem.js';
import { ScenarioSchema, scenarioSchema, type Scenario } from './schema.js';
import type { Manifest } from '../manifest/manifest.js';
import { MANIFEST } from '../manifest/builtin.js';
import { expectationMap, issuesToProblems } from './zod-problems.js';

export { ScenarioError } from './problem.js';
export type { ScenarioProblem } from './problem.js';

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ScenarioError(file, [{ keyPath: '', expected: 'a readable scenario file', got: '', text: `${file}: cannot read: ${reason}` }]);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  // Warnings (an unknown !tag, say) change what a value means, so they fail the file too.
  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) throw new ScenarioError(file, yamlProblems.map((e) => syntaxProblem(file, e, lineCounter)));

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // unresolved aliases and alias bombs surface only here
    throw new ScenarioError(file, [{ keyPath: '', expected: 'valid YAML', got: '', text: `${file}: ${(e as Error).message}` }]);
  }
  if (value === null || value === undefined) {
    const expected = 'a mapping with at least a name';
    throw new ScenarioError(file, [{ keyPath: '', expected, got: '', text: `${file}: expected ${expected}, got an empty file` }]);
  }
  return validateScenario(value, file, (path, atKey) => positionOf(doc, lineCounter, path, atKey));
}

/**
 * Validates an already-parsed value (a scenario built in code, or parsed elsewhere); `file`
 * only names the source in messages. `manifest` (default: the shipped programs and workloads)
 * says which switches keys and workload kinds exist.
 */
export function validateScenario(
  value: unknown,
  file = '<scenario>',
  locate?: (path: KeyPath, atKey: boolean) => { line: number; column: number } | undefined,
  manifest: Manifest = MANIFEST,
): Scenario {
  const place = (raw: RawProblem[]): ScenarioProblem[] => raw.map((r) => placeProblem(file, r, locate?.(r.path, r.unknownKey !== undefined)));

  const parsed = schemaFor(manifest).safeParse(value, { reportInput: true, error: expectationMap });
  if (!parsed.success) throw new ScenarioError(file, place(issuesToProblems(parsed.error.issues)));
  const scenario = parsed.data;

  let topology;
  try {
    topology = buildTopology(scenario.topology);
  } catch (e) {
    // The schema bounds every size, so this is a plan limit the schema does not know about.
    throw new ScenarioError(file, place([{ path: ['topology'], expected: 'a topology the address plan can hold', input: scenario.topology, hint: (e as Error).message }]));
  }
  const problems = checkScenario(scenario, topology, manifest);
  if (problems.length > 0) throw new ScenarioError(file, place(problems));
  return scenario;
}

const schemas = new WeakMap<Manifest, typeof ScenarioSchema>([[MANIFEST, ScenarioSchema]]);

/** One schema per manifest, built on first use. */
function schemaFor(m: Manifest): typeof ScenarioSchema {
  let s = schemas.get(m);
  if (!s) {
    s = scenarioSchema(m) as unknown as typeof ScenarioSchema;
    schemas.set(m, s);
  }
  return s;
}

function syntaxProblem(file: string, e: YAMLError, lc: LineCounter): ScenarioProblem {
  const { line, col } = lc.linePos(e.pos[0]);
  const message =
    e.code === 'MULTIPLE_DOCS' ? 'a scenario file holds one YAML document; found a second (---)' : e.message.split('\n')[0]!;
  return { keyPath: '', expected: 'valid YAML', got: '', line, column: col, text: `${file}:${line}:${col}: ${message}` };
}

/**
 * Where a key path sits in the file: the value, or the key itself when the key is the problem
 * (an unknown key); for a missing key, the key of its parent.
 */
function positionOf(doc: Document, lc: LineCounter, path: KeyPath, atKey: boolean): { line: number; column: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : n === path.length && !atKey ? doc.getIn(path, true) : keyNode(doc, path.slice(0, n));
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) {
      const { line, col } = lc.linePos(range[0]);
      return { line, column: col };
    }
  }
  return undefined;
}

function keyNode(doc: Document, path: KeyPath): unknown {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last);
    return pair?.key ?? undefined;
  }
  return doc.getIn(path, true);
}
