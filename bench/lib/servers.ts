/**
 * askbase (`node dist/main.js`) and the baseline (bench/baseline-server.js) as processes of their
 * own on 127.0.0.1, started for a scenario and stopped after it whatever happens.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { type BenchConfig, PROFILE_DIR, ROOT } from './config.js';
import type { FakeLlms } from './fake-llms.js';
import type { BenchPostgres } from './postgres.js';
import { type Child, childEnv, freePort, spawnChild, waitForHttp } from './processes.js';
import type { ServerKind } from './results.js';

/** A server's database: one on the benchmark's PostgreSQL, or its own PGlite in DATA_DIR. */
export type ServerDatabase = { name: string } | 'pglite';

export interface Server {
  kind: ServerKind;
  child: Child;
  baseUrl: string;
  database: ServerDatabase;
}

/**
 * Starts the servers (in parallel), runs `use`, and stops them whatever happens. Each uses its
 * own database (`askbase_bench`, `baseline_bench`) unless `database` says otherwise.
 */
export type WithServers = <T>(
  kinds: readonly ServerKind[],
  llmLatency: number,
  use: (servers: Server[]) => Promise<T>,
  database?: ServerDatabase,
  extraEnv?: Record<string, string>,
) => Promise<T>;

/** The two servers compared, in the order their rounds start. */
export const BOTH = ['baseline', 'askbase'] as const;

/** The database a server uses unless a scenario gives it another. */
export function databaseName(kind: ServerKind): string {
  return kind === 'askbase' ? 'askbase_bench' : 'baseline_bench';
}

/** Those databases: seeded with rows before any scenario runs. */
export const SERVER_DATABASES = ['askbase_bench', 'baseline_bench'];

/** The Dockerfile's NODE_OPTIONS for askbase, read from it so the two cannot drift apart. */
const ASKBASE_NODE_OPTIONS =
  /^ENV NODE_OPTIONS=(.+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1]?.trim() ??
  '';

export function serverStarter(options: {
  config: BenchConfig;
  workDir: string;
  postgres: BenchPostgres | undefined;
  fakes: FakeLlms;
}): WithServers {
  const { config, workDir, postgres, fakes } = options;
  let serverCount = 0;

  async function startServer(
    kind: ServerKind,
    llmLatency: number,
    database: ServerDatabase,
    extraEnv: Record<string, string>,
  ): Promise<Server> {
    const fake = fakes.get(llmLatency);
    if (!fake) throw new Error(`no fake LLM at ${llmLatency} ms`);
    const port = await freePort();
    serverCount += 1;
    const tag = `${String(serverCount).padStart(2, '0')}-${kind}`;
    const serverEnv: Record<string, string> = {
      PORT: String(port),
      HOST: '127.0.0.1',
      OPENAI_BASE_URL: fake.baseUrl,
      // askbase runs with its defaults (info: one access-log line per request, to a file) unless
      // BENCH_LOG_LEVEL says otherwise; the baseline logs nothing either way.
      ...(config.logLevel ? { LOG_LEVEL: config.logLevel } : {}),
      DB_POOL_MAX: String(config.poolMax),
      SHUTDOWN_GRACE_MS: '5000',
      // All load comes from one address; the benchmark measures throughput, not the abuse limit.
      RATE_LIMIT_MAX: '0',
      ...extraEnv,
    };
    // askbase runs as its image runs it: with the heap cap the Dockerfile sets.
    if (kind === 'askbase') serverEnv.NODE_OPTIONS = ASKBASE_NODE_OPTIONS;
    if (database === 'pglite') {
      serverEnv.DATA_DIR = await mkdtemp(join(workDir, 'pglite-'));
    } else if (postgres) {
      serverEnv.DATABASE_URL = postgres.url(database.name);
    }
    const args = [
      ...config.nodeArgs,
      ...(config.cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${tag}.cpuprofile`]
        : []),
      join(ROOT, kind === 'askbase' ? 'dist/main.js' : 'bench/baseline-server.js'),
    ];
    // The working directory is a fresh temp dir, so no .env file can change the configuration.
    const child = spawnChild(kind, process.execPath, args, {
      env: childEnv(serverEnv),
      cwd: workDir,
      logFile: join(workDir, `${tag}.log`),
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(baseUrl + (kind === 'askbase' ? '/health/ready' : '/is_up'), child, {
        timeoutMs: 120_000,
      });
    } catch (error) {
      await child.stop();
      throw error;
    }
    return { kind, child, baseUrl, database };
  }

  return async (kinds, llmLatency, use, database, extraEnv = {}) => {
    const started: Server[] = [];
    try {
      await Promise.all(
        kinds.map(async (kind) => {
          started.push(
            await startServer(kind, llmLatency, database ?? { name: databaseName(kind) }, extraEnv),
          );
        }),
      );
      // In the order asked for, whatever order they became ready in.
      return await use(kinds.map((kind) => started.find((s) => s.kind === kind) as Server));
    } finally {
      await Promise.all(started.map((server) => server.child.stop()));
    }
  };
}
