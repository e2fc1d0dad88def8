/**
 * The README's scenario reference, rendered from the JSON Schema (json-schema.ts), itself
 * generated from the zod schema: one table per section and per workload kind, every key with
 * what it accepts, its default and its meaning. `npm run docs:scenario` writes it between the
 * markers; test/scenario/reference.test.ts fails when the README's copy is out of date.
 */
import { formatByteSize } from './byte-size.js';
import type { JsonSchema } from './json-schema.js';

export const REFERENCE_BEGIN = '<!-- scenario-reference:begin (generated from src/scenario/schema.ts by `npm run docs:scenario`; do not edit by hand) -->';
export const REFERENCE_END = '<!-- scenario-reference:end -->';

type S = JsonSchema & {
  type?: string;
  properties?: Record<string, S>;
  required?: string[];
  items?: S | S[];
  anyOf?: S[];
  oneOf?: S[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  multipleOf?: number;
  minItems?: number;
  pattern?: string;
};

/** A byte size: an integer or a string with a unit (byteSize in schema.ts). */
function isByteSize(s: S): boolean {
  return s.anyOf?.length === 2 && s.anyOf[0]!.type === 'integer' && s.anyOf[1]!.type === 'string' && s.anyOf[1]!.pattern !== undefined;
}

const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function numberRange(s: S): string {
  const lo = s.exclusiveMinimum !== undefined ? `(${s.exclusiveMinimum}` : s.minimum !== undefined ? `${s.minimum}` : null;
  if (s.maximum !== undefined && lo !== null) return s.exclusiveMinimum !== undefined ? `in ${lo}, ${s.maximum}]` : `${lo}..${s.maximum}`;
  if (s.exclusiveMinimum !== undefined) return `> ${s.exclusiveMinimum}`;
  if (s.minimum !== undefined) return `≥ ${s.minimum}`;
  if (s.maximum !== undefined) return `≤ ${s.maximum}`;
  return '';
}

/** What a key accepts, in words. */
export function accepts(s: S): string {
  if (isByteSize(s)) return `bytes ≥ ${s.anyOf![0]!.minimum}: an integer or a size like \`4MiB\``;
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return s.enum.map(code).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(accepts).join(', or ');
  switch (s.type) {
    case 'integer': {
      const range = numberRange(s);
      return `${s.multipleOf === 2 ? 'even integer' : 'integer'}${range ? ` ${range}` : ''}`;
    }
    case 'number': {
      const range = numberRange(s);
      return `number${range ? ` ${range}` : ''}`;
    }
    case 'string':
      return 'text';
    case 'boolean':
      return '`true` \\| `false`';
    case 'null':
      return '`null`';
    case 'array':
      if (Array.isArray(s.items)) return `[${s.items.map(accepts).join(', ')}]`;
      if (s.items?.type === 'object') return 'list of mappings (below)';
      return `${s.minItems ? 'non-empty ' : ''}list of ${s.items ? accepts(s.items) : 'anything'}`;
    case 'object':
      return 'a mapping (below)';
    default:
      return 'anything';
  }
}

function defaultOf(s: S, required: boolean): string {
  if (s.default === undefined) return required ? '**required**' : '—';
  if (isByteSize(s) && typeof s.default === 'number') return `${code(formatByteSize(s.default))} (${s.default})`;
  return code(s.default);
}

interface Row {
  key: string;
  schema: S;
  required: boolean;
}

/** The leaf keys of an object, nested objects flattened as `parent.child`. */
function rows(obj: S, prefix = ''): Row[] {
  const out: Row[] = [];
  for (const [key, schema] of Object.entries(obj.properties ?? {})) {
    const name = `${prefix}${key}`;
    const required = obj.required?.includes(key) ?? false;
    if (schema.type === 'object' && schema.properties) out.push(...rows(schema, `${name}.`));
    else out.push({ key: name, schema, required });
  }
  return out;
}

const cell = (text: string): string => text.replace(/\n/g, ' ');

function table(rs: readonly Row[]): string[] {
  return [
    '| key | accepts | default | meaning |',
    '|---|---|---|---|',
    ...rs.map((r) => `| \`${r.key}\` | ${cell(accepts(r.schema))} | ${defaultOf(r.schema, r.required)} | ${cell(r.schema.description ?? '')} |`),
  ];
}

/** The reference as Markdown lines, without the markers. */
export function renderReference(schema: JsonSchema): string {
  const root = schema as S;
  const props = root.properties!;
  const out: string[] = [];
  const section = (title: string, intro: string | undefined, rs: readonly Row[], level = '####'): void => {
    out.push('', `${level} ${title}`, '');
    if (intro) out.push(`${intro[0]!.toUpperCase()}${intro.slice(1)}.`, '');
    out.push(...table(rs));
  };
  const scalars = Object.entries(props).filter(([, s]) => s.type !== 'object' && s.type !== 'array');
  section('Top level', undefined, scalars.map(([key, s]) => ({ key, schema: s, required: root.required?.includes(key) ?? false })));
  for (const [key, s] of Object.entries(props)) {
    if (s.type === 'object') {
      const nested = Object.entries(s.properties ?? {}).filter(([, v]) => v.type === 'array' && !Array.isArray(v.items) && (v.items as S)?.type === 'object');
      section(`\`${key}\``, s.description, rows(s));
      for (const [listKey, list] of nested) section(`\`${key}.${listKey}[]\` (each entry)`, list.description, rows(list.items as S));
    }
  }
  const workloads = props.workloads!;
  out.push('', '#### `workloads[]`', '', `${workloads.description![0]!.toUpperCase()}${workloads.description!.slice(1)}. Each entry is one of these kinds.`);
  for (const kind of (workloads.items as S).oneOf ?? []) {
    section(`\`kind: ${String(kind.properties!.kind!.const)}\``, kind.properties!.kind!.description, rows(kind), '#####');
  }
  return out.slice(1).join('\n');
}

/** `text` with the part between the markers replaced by `reference`. */
export function withReference(text: string, reference: string): string {
  const begin = text.indexOf(REFERENCE_BEGIN);
  const end = text.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error(`the README has no ${REFERENCE_BEGIN} ... ${REFERENCE_END} block`);
  return `${text.slice(0, begin + REFERENCE_BEGIN.length)}\n${reference}\n${text.slice(end)}`;
}

/** The part of `text` between the markers, as withReference writes it. */
export function referenceIn(text: string): string | null {
  const begin = text.indexOf(REFERENCE_BEGIN);
  const end = text.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) return null;
  return text.slice(begin + REFERENCE_BEGIN.length + 1, end - 1);
}
