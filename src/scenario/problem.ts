/**
 * How a bad scenario is reported: one line per problem, naming the file, the key path in the
 * dotted/indexed style people write by hand (`workloads[1].bytes`), what was expected and what
 * was found:
 *
 *   quick.yaml: workloads[1].bytes: expected an integer or a size like 4MiB, got "4 megs"
 *   quick.yaml:3:1: Map keys must be unique            (YAML syntax: FILE:LINE:COL)
 *
 * Problems are collected, not thrown one at a time, so a user fixes a file in one pass; past
 * the first MAX_PROBLEMS_LISTED the rest are only counted (a file of 40 000 typos needs 20 lines
 * to be understood, not 5 MB of them).
 */

/** how many problems a ScenarioError lists; the rest are counted in one last line */
export const MAX_PROBLEMS_LISTED = 20;

export type KeyPath = readonly (string | number)[];

/** A problem before it is placed in a file; what the schema step and the checks produce. */
export interface RawProblem {
  path: KeyPath;
  /** the phrase that follows "expected" */
  expected: string;
  /** what was found; undefined means the key is missing (YAML never yields undefined) */
  input?: unknown;
  /** extra help, printed in parentheses after what was found */
  hint?: string;
  /** set for a key the schema does not know; `expected` then lists the known keys */
  unknownKey?: string;
}

export interface ScenarioProblem {
  /** dotted/indexed key path, '' for the whole document or a YAML syntax error */
  keyPath: string;
  expected: string;
  /** what was found, rendered; '' when the key is missing or for a syntax error */
  got: string;
  /** 1-based position in the file, when known */
  line?: number;
  column?: number;
  /** the complete line as printed, file name included */
  text: string;
}

export class ScenarioError extends Error {
  /** the first problem's key path and expectation, for callers that want just one */
  readonly keyPath: string;
  readonly expected: string;
  /** the problems listed (at most MAX_PROBLEMS_LISTED) */
  readonly problems: ScenarioProblem[];
  /** problems found beyond those listed */
  readonly unlisted: number;

  /** `problems` beyond MAX_PROBLEMS_LISTED are cut; `unlisted` counts ones already cut by the caller */
  constructor(
    readonly file: string,
    problems: ScenarioProblem[],
    unlisted = 0,
  ) {
    const listed = problems.slice(0, MAX_PROBLEMS_LISTED);
    const more = unlisted + problems.length - listed.length;
    const tail = more > 0 ? [`${file}: … and ${more} more problem${more === 1 ? '' : 's'} (only the first ${listed.length} are listed)`] : [];
    super([...listed.map((p) => p.text), ...tail].join('\n'));
    this.problems = listed;
    this.unlisted = more;
    this.name = 'ScenarioError';
    this.keyPath = problems[0]?.keyPath ?? '';
    this.expected = problems[0]?.expected ?? '';
  }
}

/** ['workloads', 1, 'bytes'] → "workloads[1].bytes" */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

const MAX_SHOWN = 60;

/** A found value as a user would recognise it from the file: strings quoted, lists in brackets. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return truncate(JSON.stringify(v));
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) return String(v);
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    json = undefined;
  }
  if (json === undefined) return Array.isArray(v) ? 'a list' : 'a mapping';
  return truncate(json);
}

function truncate(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
}

/** The problems worth placing in the file (locating each costs a walk), and how many are cut. */
export function firstProblems<T>(all: readonly T[]): { listed: T[]; unlisted: number } {
  const listed = all.slice(0, MAX_PROBLEMS_LISTED);
  return { listed, unlisted: all.length - listed.length };
}

/** Renders a problem as its output line. */
export function placeProblem(file: string, raw: RawProblem, where?: { line: number; column: number }): ScenarioProblem {
  const keyPath = formatKeyPath(raw.path);
  const prefix = keyPath === '' ? `${file}: ` : `${file}: ${keyPath}: `;
  const hint = raw.hint ? ` (${raw.hint})` : '';
  if (raw.unknownKey !== undefined) {
    return {
      keyPath,
      expected: raw.expected,
      got: JSON.stringify(raw.unknownKey),
      ...where,
      text: `${prefix}unknown key${hint}; expected ${raw.expected}`,
    };
  }
  const missing = raw.input === undefined;
  const got = missing ? '' : describeValue(raw.input);
  const found = missing ? 'but the key is missing' : `got ${got}`;
  return { keyPath, expected: raw.expected, got, ...where, text: `${prefix}expected ${raw.expected}, ${found}${hint}` };
}

/** Edit distance, for "did you mean" on unknown keys and node names. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The closest candidate when it is close enough to be a typo of `word`. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(word.length / 3))) ? best : undefined;
}
