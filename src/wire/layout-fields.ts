import type { Structure } from 'buffer-layout';

export interface FieldSpec {
  readonly name: string;
  readonly offset: number;
  readonly bytes: number;
}

/** Field offsets and widths derived once from a buffer-layout structure declaration. */
export function fieldsOf<K extends string>(layout: Structure<any>, names: readonly K[]): Record<K, FieldSpec> {
  const out = {} as Record<K, FieldSpec>;
  for (const name of names) {
    const offset = layout.offsetOf(name);
    const sub = layout.layoutFor(name);
    if (offset === undefined || sub === undefined) throw new Error(`layout has no field ${name}`);
    out[name] = { name, offset, bytes: sub.span };
  }
  return out;
}
