/**
 * Units of the human table, as nccl-tests prints them: bandwidths in GB/s (10^9 bytes per
 * second, not Gbit/s, not GiB/s), and times in a unit that keeps them short (nccl-tests'
 * microseconds, then ms and s once they grow past 4 digits).
 */

/** `sec` as `622.0 us`, `14.070 ms` or `1.836 s`. */
export function formatDuration(sec: number): string {
  if (sec < 1e-3) return `${(sec * 1e6).toFixed(1)} us`;
  if (sec < 1) return `${(sec * 1e3).toFixed(3)} ms`;
  return `${sec.toFixed(3)} s`;
}

/** `us` microseconds, the unit the reports store RTTs in, formatted as formatDuration does. */
export const formatMicros = (us: number): string => formatDuration(us / 1e6);

/** A bandwidth in GB/s: two decimals like nccl-tests, three significant digits below 0.1. */
export function formatGBps(v: number): string {
  return v >= 0.1 || v === 0 ? v.toFixed(2) : v.toPrecision(3);
}

/** Gbit/s to GB/s (10^9 bytes per second). */
export const gbpsToGBps = (gbps: number): number => gbps / 8;
