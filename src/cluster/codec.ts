/**
 * Values as JSON for the control channel, keeping the types plans and counters use that JSON
 * drops: Map, Set, bigint, typed byte arrays, and -0/NaN/Infinity (a report must read the same
 * whichever process made it). Tagged objects are `{ "$": tag, "v": payload }`.
 */
const TAG = '$';

function tag(t: string, v: unknown): Record<string, unknown> {
  return { [TAG]: t, v };
}

export function toWire(value: unknown): unknown {
  if (typeof value === 'bigint') return tag('big', value.toString());
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return tag('num', 'NaN');
    if (!Number.isFinite(value)) return tag('num', value > 0 ? 'Infinity' : '-Infinity');
    if (Object.is(value, -0)) return tag('num', '-0');
    return value;
  }
  if (value === null || typeof value !== 'object') return value === undefined ? tag('undef', 0) : value;
  if (Array.isArray(value)) return value.map(toWire);
  if (value instanceof Map) return tag('map', [...value].map(([k, v]) => [toWire(k), toWire(v)]));
  if (value instanceof Set) return tag('set', [...value].map(toWire));
  if (value instanceof Uint8Array) return tag('u8', Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
  if (value instanceof DataView) return tag('dv', Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
  if (ArrayBuffer.isView(value)) return tag(value.constructor.name, Array.from(value as unknown as ArrayLike<number | bigint>, toWire));
  if (value instanceof Error) return tag('err', { name: value.name, message: value.message });
  const entries: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(value)) if (v !== undefined) entries.push([k, toWire(v)]);
  // a plain object that could be mistaken for a tag, or that has a __proto__ key, goes as entries
  const own = (k: string): boolean => Object.prototype.hasOwnProperty.call(value, k);
  if (own(TAG) || own('__proto__')) return tag('obj', entries);
  return Object.fromEntries(entries);
}

function ownEntries(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const TYPED: Record<string, (xs: never[]) => unknown> = {
  Uint8ClampedArray: (xs) => Uint8ClampedArray.from(xs),
  BigInt64Array: (xs) => BigInt64Array.from(xs),
  BigUint64Array: (xs) => BigUint64Array.from(xs),
  Int8Array: (xs) => Int8Array.from(xs),
  Int16Array: (xs) => Int16Array.from(xs),
  Int32Array: (xs) => Int32Array.from(xs),
  Uint16Array: (xs) => Uint16Array.from(xs),
  Uint32Array: (xs) => Uint32Array.from(xs),
  Float32Array: (xs) => Float32Array.from(xs),
  Float64Array: (xs) => Float64Array.from(xs),
};

export function fromWire(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromWire);
  const o = value as Record<string, unknown>;
  if (typeof o[TAG] === 'string' && 'v' in o && Object.keys(o).length === 2) {
    const v = o.v;
    switch (o[TAG]) {
      case 'big':
        return BigInt(v as string);
      case 'num':
        return v === '-0' ? -0 : Number(v);
      case 'undef':
        return undefined;
      case 'map':
        return new Map((v as unknown[][]).map(([k, x]) => [fromWire(k), fromWire(x)]));
      case 'set':
        return new Set((v as unknown[]).map(fromWire));
      case 'u8':
        return new Uint8Array(Buffer.from(v as string, 'base64'));
      case 'dv': {
        const bytes = new Uint8Array(Buffer.from(v as string, 'base64'));
        return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      case 'obj':
        return ownEntries((v as Array<[string, unknown]>).map(([k, x]) => [k, fromWire(x)]));
      case 'err': {
        const e = v as { name: string; message: string };
        const err = new Error(e.message);
        err.name = e.name;
        return err;
      }
      default: {
        const make = TYPED[o[TAG] as string];
        if (make) return make((v as unknown[]).map((x) => fromWire(x) as never));
      }
    }
  }
  return ownEntries(Object.entries(o).map(([k, x]) => [k, fromWire(x)]));
}

export function encode(value: unknown): string {
  return JSON.stringify(toWire(value));
}

export function decode(text: string): unknown {
  return fromWire(JSON.parse(text));
}
