import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * askbase's own directory: the one holding its package.json. Found by walking up rather than
 * by a fixed `../..`, because the same code runs from src/ (tests, tsx), and bundled into
 * dist/main.js or dist/db/migrate-cli.js (what ships), at different depths.
 */
function findRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'askbase') return dir;
    }
    if (dirname(dir) === dir) throw new Error('askbase: cannot find its package.json');
  }
}

export const ROOT = findRoot();
/** The migrations drizzle-kit generates; applied at start, and to the PGlite template. */
export const MIGRATIONS_DIR = join(ROOT, 'drizzle');
/** What `npm run build` makes: the web page and the embedded database's template. */
export const BUILT_UI_DIR = join(ROOT, 'dist', 'ui');
export const TEMPLATE_DIR = join(ROOT, 'dist', 'pglite-template');
