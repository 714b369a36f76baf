import type { SQL } from 'drizzle-orm';
import { type Database, isConnectionError } from '../db/database.js';
import { DatabaseUnavailableError } from '../errors.js';

/**
 * Runs `query` on `database`: a database that is not ready, or cannot be reached, surfaces as
 * DatabaseUnavailableError, whatever the driver said. Every statement of the data access layer
 * goes through here.
 */
export async function runStatement<T>(database: Database, query: () => Promise<T>): Promise<T> {
  if (!database.isReady()) {
    throw new DatabaseUnavailableError('the database is not ready yet; retry shortly');
  }
  try {
    return await query();
  } catch (error) {
    if (isConnectionError(error)) {
      throw new DatabaseUnavailableError('the database is unavailable; retry shortly', {
        cause: error,
      });
    }
    throw error;
  }
}

/** A raw statement's rows. */
export async function rowsOf<T>(database: Database, query: SQL): Promise<T[]> {
  const result: unknown = await database.db.execute(query);
  return (result as { rows: T[] }).rows;
}
