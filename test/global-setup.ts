import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { createPostgresServer } from './helpers/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL on the test PostgreSQL server; each test file creates its own database. */
    adminDatabaseUrl: string;
  }
}

/**
 * Uses TEST_DATABASE_URL when set, else starts a throwaway PostgreSQL server. Meanwhile builds
 * askbase as `npm start` does, when the sources changed since the last build (about a second,
 * plus about five for the embedded database's template when the migrations changed): tests
 * that run askbase as a process run dist/main.js, what ships; tests on PGlite start from the
 * template as a built askbase does; what is served at / is what the sources say.
 */
export default async function setup(project: TestProject) {
  const built = promisify(execFile)(process.execPath, ['scripts/build-if-stale.js']);
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    await built;
    return;
  }
  const server = await createPostgresServer();
  project.provide('adminDatabaseUrl', server.url);
  try {
    await built;
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return () => server.destroy();
}
