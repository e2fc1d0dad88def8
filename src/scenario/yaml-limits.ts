/**
 * Bounds on what the loader reads, so a hostile or runaway file costs linear time and bounded
 * memory and ends in a scenario error, never a stack overflow or minutes of work:
 *
 *  - size: a scenario is a page of YAML; anything past MAX_SCENARIO_BYTES is refused unread;
 *  - nesting: the YAML composer, toJS and zod all recurse once per level, so 5000 nested
 *    lists overflow the stack; the depth is measured first on the parser's token tree, which
 *    the parser builds with its own stack (no recursion);
 *  - duplicate keys: the yaml package's own check (uniqueKeys) compares each key with every
 *    earlier key of its mapping (quadratic: 40 000 keys took 45 s); one Set per mapping here.
 */
import { CST, isMap, isScalar, LineCounter, Parser, visit, type Document } from 'yaml';

/** 1 MiB: the largest scenario in scenarios/ is under 2 KiB. */
export const MAX_SCENARIO_BYTES = 2 ** 20;
/** levels of mappings and lists; a scenario needs 5 (workloads[i].algorithms[j] and the like) */
export const MAX_NESTING = 64;

/** "1.0 MiB", "50.0 MiB", "900 KiB": how a size limit reads in a message */
export function describeBytes(n: number): string {
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${Math.round(n / 2 ** 10)} KiB`;
  return `${n} bytes`;
}

/**
 * The first collection nested deeper than `limit` levels, as its 1-based position, or
 * undefined. Walks the CST with an explicit stack, so its own depth costs nothing.
 */
export function tooDeep(text: string, limit = MAX_NESTING): { line: number; column: number } | undefined {
  const lc = new LineCounter();
  const stack: Array<{ token: CST.Token; depth: number }> = [];
  for (const token of new Parser(lc.addNewLine).parse(text)) stack.push({ token, depth: 0 });
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    switch (token.type) {
      case 'document':
        if (token.value) stack.push({ token: token.value, depth });
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        const d = depth + 1;
        if (d > limit) {
          const { line, col } = lc.linePos(token.offset);
          return { line, column: col };
        }
        for (const item of token.items) {
          if (item.key) stack.push({ token: item.key, depth: d });
          if (item.value) stack.push({ token: item.value, depth: d });
        }
        break;
      }
      default:
        break; // scalars, comments, directives: no children
    }
  }
  return undefined;
}

export interface DuplicateKey {
  key: string;
  /** offsets in the text of the repeat and of the first occurrence */
  offset: number;
  firstOffset: number;
}

/**
 * Every repeated scalar key of every mapping, in document order. Linear: a Set per mapping.
 * (Complex keys, a mapping used as a key, never name a scenario field; the schema rejects them.)
 */
export function duplicateKeys(doc: Document): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Map<unknown, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const offset = pair.key.range?.[0] ?? 0;
        const first = seen.get(pair.key.value);
        if (first === undefined) seen.set(pair.key.value, offset);
        else out.push({ key: String(pair.key.value), offset, firstOffset: first });
      }
    },
  });
  return out;
}
