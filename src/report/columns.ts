/** A table cell: right-aligned (numbers) unless `left`. */
export function pad(s: string, n: number, left = false): string {
  return left ? s.padEnd(n) : s.padStart(n);
}
