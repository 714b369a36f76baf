import { accessSync, constants, statfsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Where the tests' throwaway files go (the test PostgreSQL cluster, embedded data directories,
 * spools): shared memory when it has room, unless TMPDIR says otherwise. The tests create tens
 * of thousands of files; on a disk that costs about a millisecond of kernel time each on a
 * small VM (a third of the suite's CPU), on tmpfs a few microseconds. Set before the workers
 * start, so they, the PostgreSQL server and every askbase a test spawns inherit it.
 */
function testTmpdir(): string | undefined {
  const shm = '/dev/shm';
  try {
    accessSync(shm, constants.W_OK);
    const { bavail, bsize } = statfsSync(shm);
    // A container's default /dev/shm is 64 MB: too small, so the disk it is.
    return bavail * bsize >= 2 * 1024 ** 3 ? shm : undefined;
  } catch {
    return undefined;
  }
}
const tmp = process.env.TMPDIR || testTmpdir();
if (tmp) process.env.TMPDIR = tmp;

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
