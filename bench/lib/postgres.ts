import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createPostgresServer } from '../../test/helpers/postgres-server.js';

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
  /** The postmaster's pid (its children are the backends), for CPU accounting. */
  pid(): number | undefined;
  /** SIGKILLs the postmaster and removes its data; for a synchronous exit path only. */
  killNow(): void;
}

/**
 * A throwaway PostgreSQL server, started the way the tests start theirs
 * (test/helpers/postgres-server.ts), with commits that do not wait for the disk either.
 */
export async function startPostgres(): Promise<BenchPostgres> {
  // The benchmark measures the services, not the disk.
  const server = await createPostgresServer({ extraFlags: ['-c', 'synchronous_commit=off'] });
  const url = (database: string) => {
    const address = new URL(server.url);
    address.pathname = `/${database}`;
    return address.toString();
  };
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
  let removed = false;
  const pid = () => {
    try {
      const value = Number(
        readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
      );
      return value > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    url,
    query,
    pid,
    createDatabase: async (name) => {
      await query('postgres', `create database ${name}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.destroy();
      removed = true;
    },
    killNow() {
      if (removed) return;
      try {
        const postmaster = pid();
        if (postmaster !== undefined) process.kill(postmaster, 'SIGKILL');
      } catch {
        // not running
      }
      rmSync(server.dir, { recursive: true, force: true });
    },
  };
}
