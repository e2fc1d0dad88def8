import type { Structure } from 'buffer-layout';
import { readU16, readU32, writeU16, writeU32 } from '../wire/bytes.js';

/**
 * A header type declared once with buffer-layout. Field offsets and widths are derived here,
 * at declaration, so reading a field on the hot path is a byte-offset read, not a decode.
 */
export interface HeaderField {
  readonly name: string;
  /** offset inside the header */
  readonly offset: number;
  readonly bytes: 1 | 2 | 4;
}

export class HeaderType {
  readonly bytes: number;
  readonly fields: ReadonlyMap<string, HeaderField>;

  constructor(readonly name: string, readonly layout: Structure<any>) {
    this.bytes = layout.span;
    const fields = new Map<string, HeaderField>();
    for (const f of layout.fields) {
      if (!f.property) continue;
      const offset = layout.offsetOf(f.property)!;
      // Wider fields (timestamps, blobs) stay reachable through the layout, not as match keys.
      if (f.span === 1 || f.span === 2 || f.span === 4) fields.set(f.property, { name: f.property, offset, bytes: f.span });
    }
    this.fields = fields;
  }

  field(name: string): HeaderField {
    const f = this.fields.get(name);
    if (!f) throw new Error(`header ${this.name} has no 1, 2 or 4-byte field ${name}`);
    return f;
  }
}

/** A header instance slot within a program: index into the packet's validity/offset table. */
export interface HeaderRef {
  readonly index: number;
  readonly type: HeaderType;
  readonly name: string;
}

/**
 * A program's handles on the fields of a header instance it declared, looked up once at build
 * time: `pkt.get(ref, F.slot)` on the hot path is an offset read, never a name lookup.
 */
export function fieldsOf<K extends string>(ref: HeaderRef, names: readonly K[]): Record<K, HeaderField> {
  const out = {} as Record<K, HeaderField>;
  for (const n of names) out[n] = ref.type.field(n);
  return out;
}

export function readField(b: Uint8Array, base: number, f: HeaderField): number {
  const o = base + f.offset;
  return f.bytes === 4 ? readU32(b, o) : f.bytes === 2 ? readU16(b, o) : b[o]!;
}

export function writeField(b: Uint8Array, base: number, f: HeaderField, v: number): void {
  const o = base + f.offset;
  if (f.bytes === 4) writeU32(b, o, v);
  else if (f.bytes === 2) writeU16(b, o, v);
  else b[o] = v;
}
