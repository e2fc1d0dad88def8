/**
 * Skipping a test with its reason on record. `it.runIf(false)` skips silently; a test that
 * calls skipUnless instead carries the reason in its meta (`skipReason`), from which
 * test/skip-reasons-reporter.ts ends `npm test` (and .ci/run) with why tests were skipped.
 */
import type { TestContext } from 'vitest';

declare module 'vitest' {
  interface TaskMeta {
    skipReason?: string;
  }
}

export const NEEDS_ROOT = 'needs root (network namespaces, tc)';

/** Skips the running test, unless `ok`, recording `reason`. */
export function skipUnless(ctx: TestContext, ok: boolean, reason: string): void {
  if (ok) return;
  ctx.task.meta.skipReason = reason;
  ctx.skip(reason);
}
