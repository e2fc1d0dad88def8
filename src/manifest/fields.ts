/**
 * Phrase-carrying zod building blocks for the scenario format, shared by the schema
 * (src/scenario/schema.ts) and the option fragments programs and workloads declare about
 * themselves (their descriptors). Every message set here is the phrase that follows "expected"
 * (src/scenario/load.ts composes `KEYPATH: expected PHRASE, got VALUE`).
 */
import { z } from 'zod';
import { BYTE_SIZE_EXPECTED, BYTE_SIZE_PATTERN, ByteSizeError, parseByteSize } from '../scenario/byte-size.js';

export function int(min: number, max?: number) {
  const phrase = max === undefined ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
  const s = z.int({ error: phrase }).min(min, { error: phrase });
  return max === undefined ? s : s.max(max, { error: phrase });
}

export function atLeastZero() {
  return z.number({ error: 'a number >= 0' }).min(0, { error: 'a number >= 0' });
}

export function positive() {
  return z.number({ error: 'a number > 0' }).positive({ error: 'a number > 0' });
}

/** a probability per packet */
export function rate() {
  return z.number({ error: 'a number in 0..1' }).min(0, { error: 'a number in 0..1' }).max(1, { error: 'a number in 0..1' });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.join(', ')}` });
}

/** integer bytes or a string like 4MiB (byte-size.ts), at least `min` */
export function byteSize(min: number) {
  // A transform has no JSON Schema of its own: say what it accepts (the loader's message is
  // the precise one; the pattern does not rule out a fractional byte count like 1.5B).
  const accepts = { anyOf: [{ type: 'integer', minimum: min }, { type: 'string', pattern: BYTE_SIZE_PATTERN }] };
  return z.unknown().meta(accepts).transform((input, ctx) => {
    if (input === undefined) {
      ctx.addIssue({ code: 'custom', message: BYTE_SIZE_EXPECTED });
      return z.NEVER;
    }
    const atLeast = `a size of at least ${min} byte${min === 1 ? '' : 's'}`;
    // a negative count is below this field's bound, whatever parseByteSize's own (0) says
    if (typeof input === 'number' && input < min) {
      ctx.addIssue({ code: 'custom', message: atLeast, input });
      return z.NEVER;
    }
    try {
      const bytes = parseByteSize(input);
      if (bytes < min) {
        ctx.addIssue({ code: 'custom', message: atLeast, input });
        return z.NEVER;
      }
      return bytes;
    } catch (e) {
      if (!(e instanceof ByteSizeError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.expected, input });
      return z.NEVER;
    }
  });
}

/** a list without repeats: running ring twice in one workload is a typo, not an experiment */
export function uniqueList<T extends z.ZodType<string>>(item: T, what: string) {
  return z
    .array(item, { error: `a list of ${what}` })
    .min(1, { error: `a non-empty list of ${what}` })
    .superRefine((list, ctx) => {
      list.forEach((v, i) => {
        if (list.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `distinct ${what}`, input: v, params: { hint: 'listed twice' } });
      });
    });
}

export const HOST_SELECTOR = '"all", a number of hosts, or a list of host names';

/** `all` | N (the first N hosts) | [h0, h5, ...]; names are checked against the topology later */
export const HostSelectorSchema = z.union(
  [
    z.literal('all'),
    int(1),
    z.array(z.string({ error: 'a host name' }).min(1, { error: 'a host name' }), { error: HOST_SELECTOR }).min(1, {
      error: 'a non-empty list of host names',
    }),
  ],
  { error: HOST_SELECTOR },
);
export type HostSelector = z.output<typeof HostSelectorSchema>;

/** every workload may be named (for the report) and grouped (same group = run concurrently) */
export const commonWorkloadFields = {
  name: z.string({ error: 'a string' }).min(1, { error: 'a non-empty string' }).optional().describe('a name for the report and table'),
  group: z
    .string({ error: 'a string' })
    .min(1, { error: 'a non-empty string' })
    .optional()
    .describe('consecutive workloads of the same group run concurrently (several jobs at once)'),
};
