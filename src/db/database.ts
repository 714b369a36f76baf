import { mkdirSync } from 'node:fs';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Logger } from 'pino';
import { MIGRATIONS_DIR } from '../paths.js';
import { lockDataDir } from './data-dir-lock.js';
import { startPgliteThread } from './pglite-thread.js';
import { schema } from './schema.js';

/** The Drizzle handle the repository uses: node-postgres, to PostgreSQL or to PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface PoolStats {
  /** Connections open, idle, and requests queued for one. */
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Database {
  readonly driver: 'postgres' | 'pglite';
  readonly db: Db;
  /** Applies pending migrations from drizzle/; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** True once migrations have been applied in this process. */
  isReady(): boolean;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Connection pool counters; PGlite is one connection to its thread, and reports none. */
  poolStats(): PoolStats | undefined;
  /** The fsyncs the embedded database has made; PostgreSQL's server syncs its own: undefined. */
  fileSyncs(): number | undefined;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { url: string; poolMax: number; logger: Logger }
  | {
      dataDir: string;
      logger: Logger;
      /** Where the prepared data directory lives; a fresh dataDir starts from it. */
      templateDir?: string;
      /** Sync each commit to disk (EMBEDDED_FSYNC); true unless said otherwise. */
      fsync?: boolean;
    };

/** A request waits at most this long for a connection instead of queueing forever. */
export const CONNECT_TIMEOUT_MS = 5_000;

const EMBEDDED_CONNECT_TIMEOUT_MS = 60_000;

// Any constant shared by every askbase replica; it serialises their migration runs.
const MIGRATION_LOCK_KEY = 4_242_001;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return 'url' in options ? openPostgres(options) : openPglite(options);
}

function openPostgres(options: { url: string; poolMax: number; logger: Logger }): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    application_name: 'askbase',
  });
  // An idle client losing its connection (database restart) must not crash the process;
  // the pool drops it and opens a fresh one on the next checkout.
  pool.on('error', (error) => options.logger.warn({ err: error }, 'idle database connection lost'));
  const db = drizzlePg(pool, { schema });
  let ready = false;

  return {
    driver: 'postgres',
    db,
    isReady: () => ready,
    async migrate() {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          await migratePg(drizzlePg(client), { migrationsFolder: MIGRATIONS_DIR });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
        ready = true;
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: options.poolMax,
    }),
    fileSyncs: () => undefined,
    close: () => pool.end(),
  };
}

async function openPglite(options: {
  dataDir: string;
  logger: Logger;
  templateDir?: string;
  fsync?: boolean;
}): Promise<Database> {
  mkdirSync(options.dataDir, { recursive: true });
  // Before opening: a second process on the same directory would corrupt it.
  const lock = lockDataDir(options.dataDir);
  // PGlite starts on its own thread (creating the directory from the template when it is new)
  // while askbase builds its app and listens; migrate() waits for it.
  const thread = startPgliteThread({ ...options, fsync: options.fsync ?? true });
  // PGlite is one session: one connection keeps each transaction's statements together.
  const pool = new pg.Pool({
    max: 1,
    stream: () => thread.connect(),
    // Longer than for a server: the first query waits for PGlite to start (up to 19 s measured
    // with initdb, no template, on a loaded machine), and every query waits its turn for the
    // one session. A dead thread ends its connections at once, so this bounds only a hang.
    connectionTimeoutMillis: EMBEDDED_CONNECT_TIMEOUT_MS,
    // PGlite's one role and database; said here so pg does not take them from PGUSER or USER.
    user: 'postgres',
    database: 'postgres',
    // Kept open: a reconnection costs PGlite a new session for nothing.
    idleTimeoutMillis: 0,
  });
  pool.on('error', (error) =>
    options.logger.warn({ err: error }, 'embedded database connection lost'),
  );
  const db = drizzlePg(pool, { schema });
  let ready = false;
  return {
    driver: 'pglite',
    db,
    isReady: () => ready,
    async migrate() {
      await thread.ready();
      await migratePg(db, { migrationsFolder: MIGRATIONS_DIR });
      ready = true;
    },
    async ping() {
      await pool.query('select 1');
    },
    poolStats: () => undefined,
    fileSyncs: () => thread.syncs(),
    async close() {
      try {
        await pool.end();
        await thread.close();
      } finally {
        lock.release();
      }
    },
  };
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up or shutting down)
]);

// node-postgres reports a lost or unobtainable connection with these messages and no code.
const CONNECTION_ERROR_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end/i;

/** True when an error means "the database cannot be reached", not "the query was wrong". */
export function isConnectionError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) {
      return true;
    }
    if (CONNECTION_ERROR_MESSAGES.test(current.message)) return true;
    if (current instanceof AggregateError && current.errors.some(isConnectionError)) return true;
    current = current.cause;
  }
  return false;
}
