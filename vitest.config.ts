import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // UDP tests bind loopback sockets; forks keep each file's sockets and timers apart.
    pool: 'forks',
    // the default output, then why any test was skipped (test/skip-unless.ts)
    reporters: ['default', './test/skip-reasons-reporter.ts'],
  },
});
