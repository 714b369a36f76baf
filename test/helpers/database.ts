import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  url: string;
  name: string;
  /** Runs one query on a connection of the test's own (never the app's pool). */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<T[]>;
  drop(): Promise<void>;
}

/**
 * A database of the test's own on the test server, so tests arrange their own data: with every
 * migration applied (a copy of the test setup's migrated one, as askbase leaves a database it
 * started on), or with `empty`, one askbase has never seen (a first start, several processes
 * migrating at once).
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `askbase_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const template = options.empty ? 'template1' : inject('migratedTemplate');
  await withClient(adminUrl, (client) =>
    client.query(`create database ${name} template ${template}`),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  // One connection, opened on first use and kept: a connection per query cost seconds a file.
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1, idleTimeoutMillis: 0 });
  // A test that stops the server on purpose must not crash the runner through an idle client.
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    name,
    query: async <T extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      (await pool.query<T>(text, values)).rows,
    // Safe to call twice: a test may drop its database itself before the cleanup does.
    drop: async () => {
      if (!pool.ended) await pool.end();
      await withClient(adminUrl, (client) =>
        client.query(`drop database if exists ${name} with (force)`),
      );
    },
  };
}

/** One query's worth of a connection of its own (the admin database's, for create and drop). */
export async function withClient<T>(
  url: string,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
