import { onTestFinished } from 'vitest';
import { type RunningAskbase, startAskbase } from './askbase.js';
import { type TestDatabase, createTestDatabase } from './database.js';

/** Wraps stop() so a test may stop the app itself and the cleanup does not stop it twice. */
function stopOnce(askbase: RunningAskbase): RunningAskbase {
  let stopped: Promise<void> | undefined;
  const stop = askbase.stop.bind(askbase);
  return { ...askbase, stop: () => (stopped ??= stop()) };
}

/** An askbase for one test on an existing database, stopped when the test finishes. */
export async function startAskbaseForTest(
  env: Record<string, string | undefined>,
): Promise<RunningAskbase> {
  const askbase = stopOnce(await startAskbase(env));
  onTestFinished(() => askbase.stop());
  return askbase;
}

/**
 * A fresh, empty database and an askbase on it, for one test; both go away when it finishes
 * (the app first, then the database).
 */
export async function startAskbaseOnFreshDatabase(
  env: Record<string, string | undefined>,
): Promise<{ askbase: RunningAskbase; db: TestDatabase }> {
  const db = await createTestDatabase();
  let askbase: RunningAskbase;
  try {
    askbase = stopOnce(await startAskbase({ ...env, DATABASE_URL: db.url }));
  } catch (error) {
    await db.drop();
    throw error;
  }
  onTestFinished(async () => {
    try {
      await askbase.stop();
    } finally {
      await db.drop();
    }
  });
  return { askbase, db };
}
