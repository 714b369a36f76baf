import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import type { Logger } from 'pino';
import { MIGRATIONS_DIR } from '../paths.js';
import { lockDataDir } from './data-dir-lock.js';
import { PGLITE_START_PARAMS, readTemplate, unpackTemplate } from './pglite-template.js';
import { schema } from './schema.js';

/** The Drizzle handle the repository uses; both drivers satisfy it. */
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
  /** Connection pool counters; PGlite has a single in-process connection and no pool. */
  poolStats(): PoolStats | undefined;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { url: string; poolMax: number; logger: Logger }
  | {
      dataDir: string;
      logger: Logger;
      /** Where the prepared data directory lives; a fresh dataDir starts from it. */
      templateDir?: string;
    };

/** A request waits at most this long for a connection instead of queueing forever. */
export const CONNECT_TIMEOUT_MS = 5_000;

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
    close: () => pool.end(),
  };
}

async function openPglite(options: {
  dataDir: string;
  logger: Logger;
  templateDir?: string;
}): Promise<Database> {
  mkdirSync(options.dataDir, { recursive: true });
  // Before opening: a second process on the same directory would corrupt it.
  const lock = lockDataDir(options.dataDir);
  let client: PGlite;
  try {
    const fresh = !existsSync(join(options.dataDir, 'PG_VERSION'));
    const template = fresh ? await readTemplate(options.templateDir) : undefined;
    if (fresh) {
      options.logger.info(
        { dataDir: options.dataDir, prepared: template !== undefined },
        template
          ? 'creating the embedded database from the prepared template'
          : 'creating the embedded database with initdb (no template for this PGlite version)',
      );
    }
    if (template) unpackTemplate(template, options.dataDir);
    // Not awaited: PGlite starts in the background (its WebAssembly compiles off the main
    // thread) while askbase builds its app and listens; migrate() waits for it, and a failure
    // to start surfaces there.
    client = new PGlite(options.dataDir, { startParams: PGLITE_START_PARAMS });
    client.waitReady.catch(() => undefined);
  } catch (error) {
    lock.release();
    throw error;
  }
  const db = drizzlePglite(client, { schema });
  let ready = false;
  return {
    driver: 'pglite',
    db,
    isReady: () => ready,
    async migrate() {
      await client.waitReady;
      await migratePglite(db, { migrationsFolder: MIGRATIONS_DIR });
      ready = true;
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    poolStats: () => undefined,
    async close() {
      try {
        // One that never started has nothing to close.
        const started = await client.waitReady.then(
          () => true,
          () => false,
        );
        if (started) await client.close();
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
