import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type Database, isConnectionError } from './database.js';

/**
 * Migrates, retrying with capped exponential backoff (up to `backoffMaxMs` between attempts)
 * while the database cannot be reached; gives up without an error once `signal` aborts.
 */
export async function connectAndMigrate(
  database: Database,
  { backoffMaxMs, logger, signal }: { backoffMaxMs: number; logger: Logger; signal: AbortSignal },
): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt += 1) {
    try {
      await database.migrate();
      logger.info({ driver: database.driver, attempt }, 'database ready, migrations applied');
      return;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      const retryInMs = Math.min(250 * 2 ** attempt, backoffMaxMs);
      logger.warn(
        { attempt, retryInMs, reason: (error as Error).message },
        'database not reachable yet; retrying',
      );
      await sleep(retryInMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
