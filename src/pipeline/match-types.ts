// Vocabulary shared by match tables, action profiles and the control-plane API, kept in the
// shape of P4Runtime's FieldMatch so the engine can translate 1:1 and error codes map onto
// gRPC status codes without a lookup table.

export type MatchKind = 'exact' | 'lpm' | 'ternary' | 'range' | 'optional';

export interface KeyFieldSpec {
  readonly name: string;
  readonly match: MatchKind;
  /** bits, 1..32; a wider P4 field must be split into several key fields by the engine */
  readonly width: number;
}

/**
 * One field of an entry's key. `wildcard` is P4Runtime's omitted field ("don't care"): allowed
 * for lpm, ternary, range and optional fields, never for exact ones. The control plane refuses
 * the equivalent explicit forms (lpm prefixLen 0, ternary mask 0, range [0, 2^width-1]) as
 * P4Runtime does (src/pipeline/dont-care.ts); a MatchTable used directly still stores them as
 * wildcard, so both spellings name the same entry there.
 */
export type FieldMatch =
  | { kind: 'exact'; value: number }
  | { kind: 'lpm'; value: number; prefixLen: number }
  | { kind: 'ternary'; value: number; mask: number }
  | { kind: 'range'; low: number; high: number }
  | { kind: 'optional'; value: number }
  | { kind: 'wildcard' };

// FAILED_PRECONDITION is what P4Runtime returns for deleting a profile member or group that is
// still referenced; the other codes are the ones tables produce.
export type TableErrorCode =
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'RESOURCE_EXHAUSTED'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION';

/**
 * A control-plane request the table (or profile, meter...) refused. The message always starts
 * with the object's kind and name, then the field when one is at fault, because the same
 * message ends up in a controller log far from the call site.
 */
export class TableError extends Error {
  readonly table: string;
  readonly field?: string;
  readonly code: TableErrorCode;

  constructor(code: TableErrorCode, table: string, detail: string, field?: string, what = 'table') {
    super(`${what} ${table}: ${field !== undefined ? `field ${field}: ` : ''}${detail}`);
    this.name = 'TableError';
    this.code = code;
    this.table = table;
    if (field !== undefined) this.field = field;
  }
}

/** All-ones in the low `width` bits, as an unsigned number (width 1..32). */
export function widthMask(width: number): number {
  return width >= 32 ? 0xffffffff : (2 ** width - 1);
}

/** The mask selecting the top `prefixLen` bits of a `width`-bit field, unsigned. */
export function prefixMask(width: number, prefixLen: number): number {
  if (prefixLen <= 0) return 0;
  return (widthMask(width) - widthMask(width - prefixLen)) >>> 0;
}

export function isValidWidth(width: number): boolean {
  return Number.isInteger(width) && width >= 1 && width <= 32;
}
