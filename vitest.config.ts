import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // chDB binds one data directory per process: each test file gets its own process.
    pool: 'forks',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The service as plain JavaScript for the processes tests start (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
