import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The web page's browser tests are `npm run test:ui` (vitest.ui.config.ts): they need Chromium.
    exclude: ['test/ui/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file makes its own database, so files can run in parallel on the shared server.
    fileParallelism: true,
    // Vitest's default is one worker fewer than the cores: a single one on 2 cores. These tests
    // mostly wait (on servers, processes and the fake LLM), so more files at once fit.
    maxWorkers: 4,
    isolate: false,
  },
});
