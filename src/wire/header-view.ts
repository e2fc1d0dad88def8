import type { Layout, Structure } from 'buffer-layout';
import { asBuffer, readF32, readF64, readU16, readU32, writeF32, writeF64, writeU16, writeU32 } from './bytes.js';

/**
 * One header of the wire format, declared once with buffer-layout and placed at a fixed offset
 * of the frame (the common header at 0, a protocol header right after it). From the
 * declaration come, once: each field's offset and width (for the hot paths and the switch
 * programs), a bounds-checked view with typed accessors (`view`, smoltcp's `new_checked`), and
 * the parsed form with `parse` / `emit` (tests, tools, reports).
 */
export type FieldKind = 'uint' | 'int' | 'float';

export interface WireField {
  readonly name: string;
  /** offset inside the header */
  readonly offset: number;
  /** offset in the frame: the header's place plus `offset` */
  readonly at: number;
  readonly bytes: number;
  readonly kind: FieldKind;
}

/** A header's numeric fields, each readable and writable in place. */
export type HeaderView<T> = { -readonly [K in keyof T]: number } & {
  /** the frame the view reads and writes */
  readonly frame: Uint8Array;
};

/** The header does not fit the bytes given: what `view`, `parse` and `emit` throw. */
export class TruncatedHeaderError extends RangeError {
  constructor(readonly header: string, readonly needed: number, readonly length: number) {
    super(`${header} header needs ${needed} bytes of frame, got ${length}`);
  }
}

function kindOf(l: Layout): FieldKind {
  const c = l.constructor.name;
  if (c === 'Int' || c === 'IntBE') return 'int';
  if (c === 'UInt' || c === 'UIntBE') return 'uint';
  if (c === 'DoubleBE' || c === 'FloatBE') return 'float';
  throw new Error(`wire header field ${l.property ?? '?'}: ${c} is not a big-endian number`);
}

function reader(f: WireField): (b: Uint8Array) => number {
  const o = f.at;
  if (f.kind === 'float') return f.bytes === 8 ? (b) => readF64(b, o) : (b) => readF32(b, o);
  const shift = 32 - 8 * f.bytes;
  if (f.kind === 'int') return f.bytes === 4 ? (b) => readU32(b, o) | 0 : f.bytes === 2 ? (b) => (readU16(b, o) << shift) >> shift : (b) => (b[o]! << shift) >> shift;
  return f.bytes === 4 ? (b) => readU32(b, o) : f.bytes === 2 ? (b) => readU16(b, o) : (b) => b[o]!;
}

function writer(f: WireField): (b: Uint8Array, v: number) => void {
  const o = f.at;
  if (f.kind === 'float') return f.bytes === 8 ? (b, v) => writeF64(b, o, v) : (b, v) => writeF32(b, o, v);
  return f.bytes === 4 ? (b, v) => writeU32(b, o, v) : f.bytes === 2 ? (b, v) => writeU16(b, o, v) : (b, v) => void (b[o] = v);
}

export class WireHeader<T extends object> {
  /** bytes of the header */
  readonly span: number;
  /** bytes a frame needs to hold the header: its place plus its span */
  readonly end: number;
  readonly fields: { readonly [K in keyof T]: WireField };
  private readonly View: new (frame: Uint8Array) => HeaderView<T>;

  constructor(readonly name: string, readonly layout: Structure<T>, readonly at: number) {
    this.span = layout.span;
    this.end = at + layout.span;
    const fields: Record<string, WireField> = {};
    for (const l of layout.fields) {
      if (!l.property) continue;
      const offset = layout.offsetOf(l.property)!;
      fields[l.property] = { name: l.property, offset, at: at + offset, bytes: l.span, kind: kindOf(l) };
    }
    this.fields = fields as { readonly [K in keyof T]: WireField };
    // One class per header, accessors on its prototype: a view costs one small object.
    const View = class {
      constructor(readonly frame: Uint8Array) {}
    };
    for (const f of Object.values(fields)) {
      const read = reader(f);
      const write = writer(f);
      Object.defineProperty(View.prototype, f.name, {
        get(this: { frame: Uint8Array }) {
          return read(this.frame);
        },
        set(this: { frame: Uint8Array }, v: number) {
          write(this.frame, v);
        },
      });
    }
    this.View = View as unknown as new (frame: Uint8Array) => HeaderView<T>;
  }

  /** true when `frame` is long enough to hold this header */
  fits(frame: Uint8Array): boolean {
    return frame.length >= this.end;
  }

  /** A view of the header in `frame`, after checking that it fits (smoltcp's new_checked). */
  view(frame: Uint8Array): HeaderView<T> {
    this.check(frame);
    return new this.View(frame);
  }

  /** The header's fields as a plain object. */
  parse(frame: Uint8Array): T {
    this.check(frame);
    return this.layout.decode(asBuffer(frame), this.at);
  }

  /** Writes `repr` into the header's bytes of `frame`. */
  emit(repr: T, frame: Uint8Array): void {
    this.check(frame);
    this.layout.encode(repr, asBuffer(frame), this.at);
  }

  private check(frame: Uint8Array): void {
    if (frame.length < this.end) throw new TruncatedHeaderError(this.name, this.end, frame.length);
  }
}
