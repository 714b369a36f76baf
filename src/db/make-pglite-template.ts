// Run by `npm run build`: prepares the data directory that a fresh embedded DATA_DIR starts
// from, unless the one there was made for this PGlite and these migrations.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { MIGRATIONS_DIR, TEMPLATE_DIR } from '../paths.js';
import {
  DATA_FILE,
  META_FILE,
  PGLITE_START_PARAMS,
  type TemplateMeta,
  isTemplateCurrent,
  migrationsDigest,
  packDirectory,
  pgliteVersion,
} from './pglite-template.js';

const started = performance.now();
if (await isTemplateCurrent()) {
  console.error(`askbase: the embedded database template in ${TEMPLATE_DIR} is current`);
} else {
  await makeTemplate();
  console.error(
    `askbase: prepared the embedded database template in ${TEMPLATE_DIR} (${Math.round(performance.now() - started)} ms)`,
  );
}

/**
 * Makes the prepared data directory: initdb and every migration, in a directory of its own,
 * shut down cleanly and packed. Clean, PostgreSQL opens it as it is; a running instance's dump
 * (PGlite's dumpDataDir) is recovered at its first open, which with fsync on syncs every file
 * one by one and then checkpoints: about twice the first start.
 */
async function makeTemplate(directory: string = TEMPLATE_DIR): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'askbase-template-'));
  try {
    const pglite = await PGlite.create(dataDir, { startParams: PGLITE_START_PARAMS });
    try {
      await migrate(drizzle(pglite), { migrationsFolder: MIGRATIONS_DIR });
    } finally {
      await pglite.close();
    }
    const data = packDirectory(dataDir);
    await rm(directory, { recursive: true, force: true });
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, DATA_FILE), data);
    // Written last: a template without its meta file is never used.
    const meta: TemplateMeta = { pgliteVersion: pgliteVersion(), migrations: migrationsDigest() };
    await writeFile(join(directory, META_FILE), `${JSON.stringify(meta)}\n`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
