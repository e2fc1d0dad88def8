/**
 * A vitest reporter that ends `npm test` with why tests were skipped, one line per reason
 * (`skipped 4: needs root (network namespaces, tc)`): vitest's own summary only counts them.
 * Reasons come from test/skip-unless.ts; vitest.config.ts and .ci/run add this reporter.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipReasons implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const why = new Map<string, number>();
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        if (t.result().state !== 'skipped') continue;
        const reason = t.meta().skipReason ?? 'no reason recorded';
        why.set(reason, (why.get(reason) ?? 0) + 1);
      }
    }
    for (const [reason, n] of why) process.stdout.write(`skipped ${n}: ${reason}\n`);
  }
}
