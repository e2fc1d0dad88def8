/**
 * Turns zod issues into RawProblems in the loader's "expected X, got Y" style.
 *
 * schema.ts sets the phrase for most fields itself; the error map below covers what it leaves
 * to zod (wrong types of whole sections, unknown keys). Unknown keys need the list of allowed
 * keys, which only the error map can see (through the failing object schema), so the map
 * smuggles it in the message behind a marker that issuesToProblems decodes.
 */
import type { z } from 'zod';
import { didYouMean, MAX_PROBLEMS_LISTED, type RawProblem } from './problem.js';

const KEYS_MARKER = '\u0000keys:';

const TYPE_PHRASES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  tuple: 'a list',
  object: 'a mapping',
  null: 'null',
};

/** Per-parse error map: returns the phrase that follows "expected". */
export const expectationMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'unrecognized_keys': {
      const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
      return KEYS_MARKER + Object.keys(shape ?? {}).join(',');
    }
    case 'invalid_type':
      return TYPE_PHRASES[iss.expected] ?? `a ${iss.expected}`;
    case 'invalid_value':
      return `one of ${iss.values.map(String).join(', ')}`;
    case 'too_small':
      return iss.origin === 'array' ? `a list of at least ${iss.minimum} items` : `a value ${iss.inclusive ? '>=' : '>'} ${iss.minimum}`;
    case 'too_big':
      return iss.origin === 'array' ? `a list of at most ${iss.maximum} items` : `a value ${iss.inclusive ? '<=' : '<'} ${iss.maximum}`;
    case 'not_multiple_of':
      return `a multiple of ${iss.divisor}`;
    case 'invalid_union':
      return 'a valid value';
    default:
      return undefined;
  }
};

export function issuesToProblems(issues: readonly z.core.$ZodIssue[]): RawProblem[] {
  const out: RawProblem[] = [];
  // zod can fail one value twice with the same phrase (a 20-digit integer is both outside the
  // safe range and above the field's maximum): one line is enough
  const said = new Set<string>();
  for (const iss of issues) {
    const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    const input = (iss as { input?: unknown }).input;
    const key = `${JSON.stringify(path)}\u0000${iss.message}`;
    if (said.has(key)) continue;
    said.add(key);
    if (iss.code === 'unrecognized_keys' && iss.message.startsWith(KEYS_MARKER)) {
      const allowed = iss.message.slice(KEYS_MARKER.length).split(',').filter(Boolean);
      const expected = `one of the keys ${allowed.join(', ')}`;
      for (const key of iss.keys) {
        // past the listed problems a key is only counted (ScenarioError), so no guess for it
        const guess = out.length < MAX_PROBLEMS_LISTED ? didYouMean(key, allowed) : undefined;
        out.push({
          path: [...path, key],
          expected,
          unknownKey: key,
          hint: guess ? `did you mean ${guess}?` : undefined,
        });
      }
    } else if (iss.code === 'invalid_union' && iss.discriminator !== undefined) {
      // zod points the path at the discriminator but reports the whole object as input.
      const found = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[iss.discriminator] : input;
      out.push({ path, expected: iss.message, input: found });
    } else {
      // schema.ts passes extra help for custom issues as params.hint
      const custom = iss.code === 'custom' ? (iss.params as { hint?: string } | undefined)?.hint : undefined;
      // 12345678901234567890 reads back as 12345678901234567000: say why the number looks changed
      const inexact = typeof input === 'number' && Number.isInteger(input) && !Number.isSafeInteger(input) ? 'too large to be read exactly' : undefined;
      const hint = custom ?? inexact;
      out.push({ path, expected: iss.message, input, hint });
    }
  }
  return out;
}
