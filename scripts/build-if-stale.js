// Builds only when dist/ is missing or older than what it is built from, so a start does not
// compile every time (that took 10 to 58 s under load). `npm start` (scripts/start.js) and the
// test setup run it first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STAMP = 'dist/.build-stamp';
const INPUTS = [
  'src',
  'ui',
  'scripts/build.js',
  'scripts/build-ui.js',
  'drizzle',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce(
    (newest, name) => Math.max(newest, newestMtime(join(path, name))),
    stat.mtimeMs,
  );
}

/** Builds when stale; exits the process with the build's status if the build fails. */
export function buildIfStale() {
  const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
  const stale = INPUTS.some((input) => newestMtime(input) > built);
  if (!stale) return;
  console.error('askbase: building (sources changed since the last build)');
  const result = spawnSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildIfStale();
