/**
 * Byte sizes as people write them in scenario files: `4194304`, `4MiB`, `512KiB`, `1.5MiB`,
 * `100KB`. Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal units (KB, MB, GB, TB)
 * powers of 1000, as in IEC 80000-13. Units are case-sensitive on purpose: `4mb` could be
 * millibits or megabits, and a silent factor of 8 or 1024 is worse than an error.
 *
 * The arithmetic is exact (BigInt over the decimal digits), so `1.1KB` is 1100, never
 * 1100.0000000000002, and a fractional byte count is an error rather than rounded away.
 */

export const BYTE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

/** The phrase the scenario loader prints after "expected"; kept here so both agree. */
export const BYTE_SIZE_EXPECTED = 'an integer or a size like 4MiB';

export class ByteSizeError extends Error {
  constructor(
    /** what was expected, as a phrase that follows "expected" */
    readonly expected: string,
    readonly input: unknown,
  ) {
    super(`expected ${expected}, got ${JSON.stringify(input) ?? String(input)}`);
    this.name = 'ByteSizeError';
  }
}

const SIZE = /^\s*(\d+)(?:\.(\d+))?\s*([A-Za-z]*)\s*$/;

/** What parseByteSize accepts as a string, as a regular expression (for the JSON Schema). */
export const BYTE_SIZE_PATTERN = `^\\s*\\d+(\\.\\d+)?\\s*(${Object.keys(BYTE_UNITS).join('|')})?\\s*$`;

/** Bytes as a non-negative safe integer; throws ByteSizeError for anything else. */
export function parseByteSize(input: unknown): number {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input >= 0) return input;
    if (Number.isFinite(input) && input >= 0) throw new ByteSizeError('a whole number of bytes', input);
    throw new ByteSizeError(input < 0 ? 'a size of at least 0 bytes' : BYTE_SIZE_EXPECTED, input);
  }
  if (typeof input !== 'string') throw new ByteSizeError(BYTE_SIZE_EXPECTED, input);
  const m = SIZE.exec(input);
  const unit = m ? BYTE_UNITS[m[3] || 'B'] : undefined;
  if (!m || unit === undefined) throw new ByteSizeError(BYTE_SIZE_EXPECTED, input);
  const fraction = m[2] ?? '';
  const numerator = BigInt(m[1]! + fraction) * BigInt(unit);
  const denominator = 10n ** BigInt(fraction.length);
  if (numerator % denominator !== 0n) throw new ByteSizeError('a whole number of bytes', input);
  const bytes = numerator / denominator;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new ByteSizeError(`at most ${Number.MAX_SAFE_INTEGER} bytes`, input);
  return Number(bytes);
}

/** The shortest exact spelling, binary units preferred: 4194304 → "4MiB", 1500 → "1500B"... */
export function formatByteSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`not a byte count: ${bytes}`);
  if (bytes === 0) return '0B';
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB', 'TB', 'GB', 'MB', 'KB']) {
    const size = BYTE_UNITS[unit]!;
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
