// `npm run build`: src/ to dist/ (each file transpiled by esbuild, with source maps; types are
// checked by `npm run typecheck`, not here), the web page into dist/ui, the embedded
// database's template when it is not current, and last the stamp `npm start` compares with.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildUi } from './build-ui.js';

const started = performance.now();
const sources = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });

// The compiled code is made anew (no file of a deleted source stays); the template is kept
// for the check below, the page is rebuilt by buildUi.
for (const name of existsSync('dist') ? readdirSync('dist') : []) {
  if (name !== 'pglite-template') rmSync(join('dist', name), { recursive: true, force: true });
}
await build({
  entryPoints: sources('src'),
  outdir: 'dist',
  outbase: 'src',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
await buildUi();
const template = spawnSync(process.execPath, ['dist/db/make-pglite-template.js'], {
  stdio: 'inherit',
});
if (template.status !== 0) process.exit(template.status ?? 1);
writeFileSync('dist/.build-stamp', `${new Date().toISOString()}\n`);
console.error(`askbase: built in ${Math.round(performance.now() - started)} ms`);
