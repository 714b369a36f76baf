// The composition root: configuration, database, migrations, answerer, app, listen, and a clean stop.
import { pino } from 'pino';
import { OpenAIAnswerer } from './answerer/openai-answerer.js';
import { ConfigError, isLlmConfigured, loadConfig } from './config.js';
import { databaseOptions } from './db/database-options.js';
import { openDatabase } from './db/database.js';
import { buildApp } from './http/app.js';

async function main() {
  const config = loadConfig();
  const logger = pino({
    level: config.logLevel,
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
  });

  const database = await openDatabase(databaseOptions(config, logger));
  await database.migrate();
  logger.info({ driver: database.driver }, 'database ready, migrations applied');

  const answerer = isLlmConfigured(config.openai)
    ? new OpenAIAnswerer(config.openai, logger)
    : undefined;
  if (!answerer)
    logger.warn('no LLM configured (OPENAI_API_KEY or OPENAI_BASE_URL): /ask answers 503');

  const app = buildApp({ config, database, answerer, logger });
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new connections, waiting for asks in flight');
    const grace = setTimeout(() => {
      logger.error('grace period over; exiting with asks still in flight');
      process.exit(1);
    }, config.shutdownGraceMs);
    grace.unref();
    await app.close();
    // Asks whose client went away still run; their answers are stored before the pool closes.
    const { unfinished } = await app.qa.drain(config.shutdownGraceMs);
    if (unfinished > 0) logger.warn({ unfinished }, 'asks still in flight at shutdown');
    await database.close();
    logger.info('stopped');
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`askbase: invalid configuration: ${error.message}`);
  } else {
    console.error('askbase: failed to start', error);
  }
  process.exit(1);
});
