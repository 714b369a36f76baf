import { defineConfig } from 'vitest/config';

/** `npm run test:ui`: the web page in a real Chromium, against askbase on a real PostgreSQL. */
export default defineConfig({
  test: {
    include: ['test/ui/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One browser per file; files run side by side like the API tests.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
