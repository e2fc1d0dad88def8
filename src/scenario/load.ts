/**
 * From a scenario file to a validated Scenario, in three passes, each reporting every problem
 * it finds before giving up:
 *
 *   1. YAML syntax            FILE:LINE:COL: message
 *   2. schema (schema.ts)     FILE: key.path[i]: expected ..., got ...
 *   3. topology-aware checks  (checks.ts) same format
 *
 * Everything ends in a ScenarioError (the CLI maps it to exit code 2) rather than a stack trace.
 * Size, nesting and duplicate keys are bounded in yaml-limits.ts, and only the first problems
 * are placed and listed (problem.ts), so any input costs linear time.
 */
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import { buildTopology } from '../topology/from-spec.js';
import { checkScenario } from './checks.js';
import { firstProblems, placeProblem, ScenarioError, type KeyPath, type RawProblem, type ScenarioProblem } from './problem.js';
import { ScenarioSchema, type Scenario } from './schema.js';
import { expectationMap, issuesToProblems } from './zod-problems.js';
import { describeBytes, duplicateKeys, MAX_NESTING, MAX_SCENARIO_BYTES, tooDeep } from './yaml-limits.js';

export { ScenarioError } from './problem.js';
export type { ScenarioProblem } from './problem.js';

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    // refused before it is read: a 50 MB file would cost memory before any check could run
    const size = statSync(file).size;
    if (size > MAX_SCENARIO_BYTES) throw tooBig(file, size);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ScenarioError(file, [{ keyPath: '', expected: 'a readable scenario file', got: '', text: `${file}: cannot read: ${reason}` }]);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): Scenario {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SCENARIO_BYTES) throw tooBig(file, bytes);
  const deep = tooDeep(text);
  if (deep) {
    const expected = `at most ${MAX_NESTING} levels of nested mappings and lists`;
    const at = `${file}:${deep.line}:${deep.column}`;
    throw new ScenarioError(file, [{ keyPath: '', expected, got: '', ...deep, text: `${at}: nesting too deep; expected ${expected}` }]);
  }
  const lineCounter = new LineCounter();
  // uniqueKeys off: the package's check is quadratic; duplicateKeys does the same, linearly
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  // Warnings (an unknown !tag, say) change what a value means, so they fail the file too.
  const yamlProblems = [...doc.errors, ...doc.warnings];
  const duplicates = duplicateKeys(doc);
  if (yamlProblems.length + duplicates.length > 0) {
    const { listed, unlisted } = firstProblems([...yamlProblems, ...duplicates]);
    const placed = listed.map((p) => ('key' in p ? duplicateProblem(file, p, lineCounter) : syntaxProblem(file, p, lineCounter)));
    throw new ScenarioError(file, placed, unlisted);
  }

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
 * only names the source in messages.
 */
export function validateScenario(value: unknown, file = '<scenario>', locate?: (path: KeyPath, atKey: boolean) => { line: number; column: number } | undefined): Scenario {
  // Only the listed problems are placed: locating one in the file scans its mapping.
  const fail = (raw: RawProblem[]): ScenarioError => {
    const { listed, unlisted } = firstProblems(raw);
    return new ScenarioError(file, listed.map((r) => placeProblem(file, r, locate?.(r.path, r.unknownKey !== undefined))), unlisted);
  };

  const parsed = ScenarioSchema.safeParse(value, { reportInput: true, error: expectationMap });
  if (!parsed.success) throw fail(issuesToProblems(parsed.error.issues));
  const scenario = parsed.data;

  let topology;
  try {
    topology = buildTopology(scenario.topology);
  } catch (e) {
    // The schema bounds every size, so this is a plan limit the schema does not know about.
    throw fail([{ path: ['topology'], expected: 'a topology the address plan can hold', input: scenario.topology, hint: (e as Error).message }]);
  }
  const problems = checkScenario(scenario, topology);
  if (problems.length > 0) throw fail(problems);
  return scenario;
}

function tooBig(file: string, bytes: number): ScenarioError {
  const expected = `a scenario file of at most ${describeBytes(MAX_SCENARIO_BYTES)}`;
  return new ScenarioError(file, [{ keyPath: '', expected, got: describeBytes(bytes), text: `${file}: expected ${expected}, got ${describeBytes(bytes)}` }]);
}

function duplicateProblem(file: string, d: { key: string; offset: number; firstOffset: number }, lc: LineCounter): ScenarioProblem {
  const { line, col } = lc.linePos(d.offset);
  const first = lc.linePos(d.firstOffset);
  const text = `${file}:${line}:${col}: Map keys must be unique; ${JSON.stringify(d.key)} is already at line ${first.line}`;
  return { keyPath: '', expected: 'valid YAML', got: '', line, column: col, text };
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
