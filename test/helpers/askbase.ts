import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { OpenAIAnswerer } from '../../src/answerer/openai-answerer.js';
import { type Config, isLlmConfigured, loadConfig } from '../../src/config.js';
import { databaseOptions } from '../../src/db/database-options.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { buildApp } from '../../src/http/app.js';

export interface RunningAskbase {
  /** http://127.0.0.1:PORT */
  url: string;
  app: FastifyInstance;
  database: Database;
  config: Config;
  /** Closes the server, waits for asks in flight, closes the database. */
  stop(): Promise<void>;
}

/**
 * Starts askbase the way src/main.ts does, on 127.0.0.1 and a free port, configured only by
 * `env` (never by the process environment or a .env file).
 */
export async function startAskbase(
  env: Record<string, string | undefined>,
): Promise<RunningAskbase> {
  const config = loadConfig({ PORT: '0', OPENAI_MAX_RETRIES: '0', ...env });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const database = await openDatabase(databaseOptions(config, logger));
  await database.migrate();
  const answerer = isLlmConfigured(config.openai)
    ? new OpenAIAnswerer(config.openai, logger)
    : undefined;
  const app = buildApp({ config, database, answerer, logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    database,
    config,
    async stop() {
      await app.close();
      await app.qa.drain(config.shutdownGraceMs);
      await database.close();
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
