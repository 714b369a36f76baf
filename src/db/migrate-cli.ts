// `npm run db:migrate`: applies pending migrations to the configured database and exits non-zero on failure.
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { DataDirLockedError } from './data-dir-lock.js';
import { databaseOptions } from './database-options.js';
import { openDatabase } from './database.js';

const logger = createLogger('info').child({ name: 'askbase-migrate' });

try {
  const config = loadConfig();
  const database = await openDatabase(databaseOptions(config, logger));
  try {
    await database.migrate();
    logger.info({ driver: database.driver }, 'migrations applied');
  } finally {
    await database.close();
  }
} catch (error) {
  if (error instanceof DataDirLockedError) console.error(`askbase: ${error.message}`);
  else logger.error({ err: error }, 'migration failed');
  process.exitCode = 1;
}
