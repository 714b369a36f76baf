import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';

/** A running askbase: what startServer gives (its app, database, ask lifecycle, jobs), and more. */
export interface RunningAskbase extends Pick<
  RunningServer,
  'app' | 'database' | 'qa' | 'recovery' | 'retention' | 'housekeep'
> {
  /** http://127.0.0.1:PORT */
  url: string;
  config: Config;
  /** Every log line written so far, parsed (only when started with `captureLogs`). */
  logs: Record<string, unknown>[];
  /** Closes the server, waits for asks in flight, closes the database. */
  stop(): Promise<void>;
}

/**
 * Starts askbase exactly as src/main.ts does, on 127.0.0.1 and a free port, configured only by
 * `env` (never by the process environment or a .env file), and waits until it is ready.
 */
export async function startAskbase(
  env: Record<string, string | undefined>,
  options: { captureLogs?: boolean; waitUntilReady?: boolean } = {},
): Promise<RunningAskbase> {
  // A data directory of its own, so one test's spooled outcomes never reach another test's
  // database; removed on stop unless the test chose the directory.
  const ownDataDir =
    env.DATA_DIR === undefined ? mkdtempSync(join(tmpdir(), 'askbase-test-data-')) : undefined;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    OPENAI_MAX_RETRIES: '0',
    RATE_LIMIT_MAX: '0',
    // Quiet unless the test reads the logs (or TEST_LOG_LEVEL asks for them).
    LOG_LEVEL: options.captureLogs ? undefined : (process.env.TEST_LOG_LEVEL ?? 'silent'),
    ...env,
    // A DATA_DIR given as undefined is no DATA_DIR: never the relative ./data default.
    DATA_DIR: env.DATA_DIR ?? ownDataDir,
  });
  const logs: Record<string, unknown>[] = [];
  const logger = options.captureLogs
    ? createLogger(
        config.logLevel,
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
              logs.push(JSON.parse(line) as Record<string, unknown>);
            }
            done();
          },
        }),
      )
    : createLogger(config.logLevel);
  const removeOwnDataDir = () => {
    if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
  };
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    removeOwnDataDir();
    throw error;
  }
  if (options.waitUntilReady ?? true) await server.ready;
  return {
    url: `http://127.0.0.1:${server.port}`,
    app: server.app,
    database: server.database,
    qa: server.qa,
    recovery: server.recovery,
    retention: server.retention,
    housekeep: () => server.housekeep(),
    config,
    logs,
    async stop() {
      try {
        await server.stop();
      } finally {
        if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
      }
    },
  };
}

/** POST /ask with a JSON body. */
export function ask(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  return fetch(`${baseUrl}/ask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}
