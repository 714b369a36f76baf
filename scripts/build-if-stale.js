// `npm start` runs this first: it builds only when dist/ is missing or older than what it is
// built from, so a start does not compile every time (that took 10 to 58 s under load).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
const stale = INPUTS.some((input) => newestMtime(input) > built);
if (stale) {
  console.error('askbase: building (sources changed since the last build)');
  const result = spawnSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
