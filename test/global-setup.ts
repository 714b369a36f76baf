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
 * PGlite start as a built askbase does (and several seconds faster each).
 */
export default async function setup(project: TestProject) {
  const template = readTemplate().then((found) => (found ? undefined : makeTemplate()));
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
