/** A table cell: right-aligned (numbers) unless `left`. */
export function pad(s: string, n: number, left = false): string {
  return left ? s.padEnd(n) : s.padStart(n);
}

/** A value for a cell: integers as they are, other numbers to `digits` decimals, absent as -. */
export function fmt(v: unknown, digits = 2): string {
  return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : String(v ?? '-');
}
