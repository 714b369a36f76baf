import { accessSync, constants, statfsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

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

/**
 * The files that start askbase processes, or the embedded database, many times, take the
 * longest: started first, they do not end the run alone on one core. Vitest orders the rest
 * (by the last run's durations when it has them; a fresh clone has none, and gets size order).
 */
const LONGEST = [
  'qa/leases',
  'db/first-run',
  'db/data-dir-lock',
  'process-lifecycle',
  'workers',
  'db/outages',
];
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = LONGEST.findIndex((name) => file.moduleId.endsWith(`/test/${name}.test.ts`));
      return index === -1 ? LONGEST.length : index;
    };
    // Array sort is stable: within a rank, Vitest's order stays.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

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
    // often wait (on processes, the fake LLM, restarts), so more files at once fit; but each
    // worker imports askbase anew, and on 2 cores 3 took less time and CPU than 4 (49-54 s
    // against 52-55 s, 93-102 s of CPU against 99-106 s).
    maxWorkers: 3,
    isolate: false,
    sequence: { sequencer: LongestFirst },
  },
});
