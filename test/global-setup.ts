import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { makeTemplate, readTemplate } from '../src/db/pglite-template.js';
import { createPostgresServer } from './helpers/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL on the test PostgreSQL server; each test file creates its own database. */
    adminDatabaseUrl: string;
  }
}

/**
 * Uses TEST_DATABASE_URL when set, else starts a throwaway PostgreSQL server. Meanwhile makes
 * the prepared embedded database that `npm run build` makes, when it is missing, so tests on
 * PGlite start as a built askbase does (and several seconds faster each), and builds the web
 * page from its sources (under a second), so what is served at / is what the sources say.
 */
export default async function setup(project: TestProject) {
  const template = Promise.all([
    readTemplate().then((found) => (found ? undefined : makeTemplate())),
    promisify(execFile)(process.execPath, ['scripts/build-ui.js']),
  ]);
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    await template;
    return;
  }
  const server = await createPostgresServer();
  project.provide('adminDatabaseUrl', server.url);
  try {
    await template;
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return () => server.destroy();
}
