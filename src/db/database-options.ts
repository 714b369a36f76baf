import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DatabaseOptions } from './database.js';

/** PostgreSQL when DATABASE_URL is set, else the embedded PGlite database under DATA_DIR. */
export function databaseOptions(config: Config, logger: Logger): DatabaseOptions {
  return config.databaseUrl !== undefined
    ? { url: config.databaseUrl, poolMax: config.dbPoolMax, logger }
    : { dataDir: resolve(config.dataDir, 'pglite'), logger, fsync: config.embeddedFsync };
}
