import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { withClient } from './helpers/database.js';
import { createPostgresServer } from './helpers/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL on the test PostgreSQL server; each test file creates its own database. */
    adminDatabaseUrl: string;
    /** A database with every migration applied, which test databases are copied from. */
    migratedTemplate: string;
  }
}

/**
 * Uses TEST_DATABASE_URL when set, else starts a throwaway PostgreSQL server, and makes on it
 * a database with askbase's migrations applied (by askbase's own migrate), which each test
 * database is a copy of: about 0.07 s a database instead of migrating each one. Meanwhile builds
 * askbase as `npm start` does, when the sources changed since the last build (about a second,
 * plus about five for the embedded database's template when the migrations changed): tests
 * that run askbase as a process run dist/main.js, what ships; tests on PGlite start from the
 * template as a built askbase does; what is served at / is what the sources say.
 */
export default async function setup(project: TestProject) {
  const built = promisify(execFile)(process.execPath, ['scripts/build-if-stale.js']);
  const external = process.env.TEST_DATABASE_URL;
  const server = external ? undefined : await createPostgresServer();
  const adminUrl = external ?? server!.url;
  const template = `askbase_template_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const dropTemplate = () =>
    withClient(adminUrl, (client) => client.query(`drop database if exists ${template}`));
  try {
    await withClient(adminUrl, (client) => client.query(`create database ${template}`));
    const url = new URL(adminUrl);
    url.pathname = `/${template}`;
    const database = await openDatabase({
      url: url.toString(),
      poolMax: 1,
      logger: createLogger('silent'),
    });
    try {
      await database.migrate();
    } finally {
      await database.close();
    }
    project.provide('adminDatabaseUrl', adminUrl);
    project.provide('migratedTemplate', template);
    await built;
  } catch (error) {
    if (server) await server.destroy();
    else await dropTemplate().catch(() => undefined);
    throw error;
  }
  return async () => {
    if (server) await server.destroy();
    else await dropTemplate();
  };
}
