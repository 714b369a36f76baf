import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, onTestFinished } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fake-openai/fake-openai.js';
import { type RunningAskbase, startAskbase } from './askbase.js';
import { type AskbaseProcess, spawnAskbase } from './askbase-process.js';
import { type TestDatabase, createTestDatabase } from './database.js';
import { closedPortBaseUrl } from './http.js';
import { type LlmGate, startLlmGate } from './llm-gate.js';
import { type PostgresServer, createPostgresServer } from './postgres-server.js';

/**
 * Where a suite's askbases keep their data:
 * - `postgres`: a database of the suite's own on the test server, with every migration applied;
 * - `postgres, unmigrated`: the same, never migrated, as on askbase's very first start;
 * - `postgres server`: a PostgreSQL server of the suite's own, which its tests may stop and start;
 * - `embedded`: the embedded database, in a data directory of the suite's own (one askbase at a
 *   time: the directory is locked while one runs);
 * - `none`: nothing of the suite's: each askbase keeps its data in a directory of its own (the
 *   embedded database), unless its test names a database.
 */
export type SuiteDatabase =
  'postgres' | 'postgres, unmigrated' | 'postgres server' | 'embedded' | 'none';

export type Env = Record<string, string | undefined>;

export interface SuiteOptions {
  /** `postgres` unless said. */
  database?: SuiteDatabase;
  /**
   * The LLM the suite's askbases ask: the fake OpenAI server (`fake`, the default), none at all
   * (`none`: asks answer llm_not_configured), or an address where nothing listens.
   */
  llm?: 'fake' | 'none' | 'unreachable';
  /** More environment for every askbase of the suite (a value of undefined unsets it). */
  env?: Env;
  /**
   * Whether the suite starts an askbase of its own before its tests (the default); without one,
   * each test starts what it needs with start(), startAlone() or spawn().
   */
  askbase?: boolean;
  /** Whether the suite's own askbase keeps its log lines in `askbase.logs`. */
  captureLogs?: boolean;
}

type StartOptions = Parameters<typeof startAskbase>[1];
type SpawnOptions = Parameters<typeof spawnAskbase>[1];

export interface AskbaseSuite {
  /** The fake OpenAI server; reset before each test. */
  readonly fake: FakeOpenAI;
  /** The suite's database on the test server (`postgres` and `postgres, unmigrated` only). */
  readonly db: TestDatabase;
  /** The suite's own PostgreSQL server (`postgres server` only). */
  readonly server: PostgresServer;
  /** The suite's own askbase, started before its tests (unless `askbase: false`). */
  readonly askbase: RunningAskbase;
  /** What points an askbase at the suite's database and LLM, with the suite's `env`. */
  readonly env: Env;
  /**
   * Another askbase on the suite's database and LLM, `env` added to the suite's; stopped when
   * the test that starts it finishes (started in a hook: when the suite ends). Its stop() may
   * also be called by the test, once or more.
   */
  start: (env?: Env, options?: StartOptions) => Promise<RunningAskbase>;
  /**
   * An askbase on a fresh database of its own on the test server (the suite's LLM and `env`),
   * for a test that counts or breaks what is in it; both go when the test finishes.
   */
  startAlone: (
    env?: Env,
    options?: StartOptions,
  ) => Promise<{ askbase: RunningAskbase; db: TestDatabase }>;
  /**
   * askbase as a process of its own (dist/main.js, what ships) on the suite's database and
   * LLM, for tests that send it signals; killed when the test finishes. Call it from a test.
   */
  spawn: (env?: Env, options?: SpawnOptions) => Promise<AskbaseProcess>;
  /**
   * A closed gate in front of the suite's fake LLM (helpers/llm-gate.ts), for a test that must
   * know its asks are all waiting on the LLM; closed after the test, before its askbases stop.
   */
  gate: () => Promise<LlmGate>;
  /** Stops the suite's askbase and starts it again as it was, on the same database. */
  restart: () => Promise<void>;
}

/** A fake OpenAI server for the suite, reset before each test and closed after the last. */
export function useFakeOpenAI(): { readonly fake: FakeOpenAI } {
  let fake: FakeOpenAI | undefined;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => fake?.reset());
  return {
    get fake() {
      return defined(fake, 'the fake OpenAI server is started by the suite’s beforeAll');
    },
  };
}

/**
 * The one arrangement of a test file that runs askbase: a fake LLM, a database of the suite's
 * own (PostgreSQL or the embedded one: see SuiteDatabase) and askbase on both, started before
 * its tests and torn down after them. Its fields are set once the suite's beforeAll has run.
 * With `describe.each(BOTH_DATABASES)`, `({ database }) => useAskbaseSuite({ database })` runs
 * a suite on either database.
 */
export function useAskbaseSuite(options: SuiteOptions = {}): AskbaseSuite {
  const kind = options.database ?? 'postgres';
  const llmSuite = useFakeOpenAI();
  let db: TestDatabase | undefined;
  let server: PostgresServer | undefined;
  let dataDir: string | undefined;
  let llmUrl: string | undefined;
  let askbase: RunningAskbase | undefined;
  /** What askbases started outside a test leave to the suite's end, latest first. */
  const atSuiteEnd: (() => Promise<void>)[] = [];
  /**
   * The test's LLM gates: closed after it (afterEach), before its askbases stop (they stop
   * when it finishes), so that no stop waits on an ask a gate still holds.
   */
  const openGates: LlmGate[] = [];

  const env = (): Env => ({
    DATABASE_URL: db?.url ?? server?.url,
    DATA_DIR: dataDir,
    OPENAI_BASE_URL: llmUrl,
    ...options.env,
  });
  const startOwn = async () =>
    stopOnce(await startAskbase(env(), { captureLogs: options.captureLogs }));

  // Starting a PostgreSQL server, or the embedded database, is slow on a loaded machine: the
  // bound only guards against a hang.
  beforeAll(async () => {
    if (kind === 'postgres' || kind === 'postgres, unmigrated') {
      db = await createTestDatabase({ empty: kind === 'postgres, unmigrated' });
    } else if (kind === 'postgres server') {
      server = await createPostgresServer();
    } else if (kind === 'embedded') {
      dataDir = await mkdtemp(join(tmpdir(), 'askbase-test-data-'));
    }
    const llm = options.llm ?? 'fake';
    llmUrl =
      llm === 'fake'
        ? llmSuite.fake.baseUrl
        : llm === 'unreachable'
          ? await closedPortBaseUrl()
          : undefined;
    if (options.askbase ?? true) askbase = await startOwn();
  }, 120_000);
  afterEach(async () => {
    for (const gate of openGates.splice(0)) await gate.close();
  });
  afterAll(async () => {
    try {
      for (const gate of openGates.splice(0)) await gate.close();
      for (const cleanup of atSuiteEnd.splice(0).reverse()) await cleanup();
      await askbase?.stop();
    } finally {
      await db?.drop();
      await server?.destroy();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });

  return {
    get fake() {
      return llmSuite.fake;
    },
    get db() {
      return defined(db, `a suite on database "${kind}" has no database on the test server`);
    },
    get server() {
      return defined(server, `a suite on database "${kind}" has no PostgreSQL server of its own`);
    },
    get askbase() {
      return defined(askbase, 'this suite starts no askbase of its own (askbase: false)');
    },
    get env() {
      return env();
    },
    async start(more = {}, startOptions = {}) {
      const started = stopOnce(await startAskbase({ ...env(), ...more }, startOptions));
      atTheEnd(() => started.stop(), atSuiteEnd);
      return started;
    },
    async startAlone(more = {}, startOptions = {}) {
      const own = await createTestDatabase();
      let started: RunningAskbase;
      try {
        started = stopOnce(
          await startAskbase(
            { ...env(), DATA_DIR: undefined, DATABASE_URL: own.url, ...more },
            startOptions,
          ),
        );
      } catch (error) {
        await own.drop();
        throw error;
      }
      atTheEnd(async () => {
        try {
          await started.stop();
        } finally {
          await own.drop();
        }
      }, atSuiteEnd);
      return { askbase: started, db: own };
    },
    spawn(more = {}, spawnOptions = {}) {
      const all = { ...env(), ...more };
      const set = Object.entries(all).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      );
      return spawnAskbase(Object.fromEntries(set), spawnOptions);
    },
    async gate() {
      const gate = await startLlmGate(llmSuite.fake.baseUrl);
      openGates.push(gate);
      return gate;
    },
    async restart() {
      await askbase?.stop();
      askbase = await startOwn();
    },
  };
}

export interface DatabaseSuite {
  /** askbase's database layer, opened and migrated, as askbase opens it. */
  readonly database: Database;
}

/**
 * askbase's database layer on its own, with no server or LLM, for the tests of what lies below
 * HTTP: on a database of the suite's own on the test server (`poolMax` connections at most),
 * or on the embedded database in a data directory of the suite's own. Opened and migrated
 * before the suite's tests, closed and removed after them.
 */
export function useDatabaseSuite(
  options: { database?: 'postgres' | 'embedded'; poolMax?: number } = {},
): DatabaseSuite {
  const logger = createLogger('silent');
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  let database: Database | undefined;
  beforeAll(async () => {
    if (options.database === 'embedded') {
      dataDir = await mkdtemp(join(tmpdir(), 'askbase-test-data-'));
      database = await openDatabase({ dataDir, logger });
    } else {
      db = await createTestDatabase();
      database = await openDatabase({ url: db.url, poolMax: options.poolMax ?? 2, logger });
    }
    await database.migrate();
  }, 120_000);
  afterAll(async () => {
    try {
      await database?.close();
    } finally {
      await db?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });
  return {
    get database() {
      return defined(database, 'the database is opened by the suite’s beforeAll');
    },
  };
}

function defined<T>(value: T | undefined, otherwise: string): T {
  if (value === undefined) throw new Error(otherwise);
  return value;
}

/** Wraps stop() so a test may stop an askbase itself and the cleanup does not stop it twice. */
function stopOnce(askbase: RunningAskbase): RunningAskbase {
  let stopped: Promise<void> | undefined;
  const stop = askbase.stop.bind(askbase);
  return { ...askbase, stop: () => (stopped ??= stop()) };
}

/** Runs `cleanup` when the current test finishes; outside a test (in a hook), at the suite's end. */
function atTheEnd(cleanup: () => Promise<void>, atSuiteEnd: (() => Promise<void>)[]): void {
  try {
    onTestFinished(cleanup);
  } catch (error) {
    if (!(error instanceof Error && error.message.includes('only be called inside a test'))) {
      throw error;
    }
    atSuiteEnd.push(cleanup);
  }
}
