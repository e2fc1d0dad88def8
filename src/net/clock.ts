/** A pending timer; cancel() is idempotent. */
export interface Timer {
  cancel(): void;
}

/**
 * Time as everything above src/net sees it. Nanoseconds, as a float64 (exact to 2^53 ns,
 * about 104 days). The sim clock is virtual; the real clock is the process's monotonic time.
 */
export interface Clock {
  readonly kind: 'sim' | 'real';
  now(): number;
  /** Runs fn once after delayNs (>= 0). Callbacks never run synchronously inside setTimer. */
  setTimer(delayNs: number, fn: () => void): Timer;
}

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;
