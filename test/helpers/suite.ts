import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../fake-openai/fake-openai.js';
import { type RunningAskbase, startAskbase } from './askbase.js';
import { type TestDatabase, createTestDatabase } from './database.js';

export interface AskbaseSuite {
  fake: FakeOpenAI;
  db: TestDatabase;
  askbase: RunningAskbase;
}

/** The same, on either database: `db` is undefined on the embedded one. */
export interface AskbaseSuiteOn {
  fake: FakeOpenAI;
  db: TestDatabase | undefined;
  askbase: RunningAskbase;
}

/**
 * The usual arrangement of a test file: a fake LLM, a database of the file's own and askbase on
 * both, started before its tests and torn down after; the fake is reset before each test.
 * Fields are set once the file's beforeAll has run.
 */
export function useAskbaseSuite(env: Record<string, string> = {}): AskbaseSuite {
  return useAskbaseOn({ embedded: false }, env) as AskbaseSuite;
}

/**
 * The same arrangement on PostgreSQL or on the embedded database (`BOTH_DATABASES`, for
 * `describe.each`): with `embedded`, askbase keeps its data in its own data directory.
 */
export function useAskbaseOn(
  { embedded }: { embedded: boolean },
  env: Record<string, string> = {},
): AskbaseSuiteOn {
  const suite = {} as AskbaseSuiteOn;
  beforeAll(async () => {
    suite.fake = await startFakeOpenAI();
    suite.db = embedded ? undefined : await createTestDatabase();
    suite.askbase = await startAskbase({
      DATABASE_URL: suite.db?.url,
      OPENAI_BASE_URL: suite.fake.baseUrl,
      ...env,
    });
  });
  afterAll(async () => {
    await suite.askbase?.stop();
    await suite.db?.drop();
    await suite.fake?.close();
  });
  beforeEach(() => suite.fake?.reset());
  return suite;
}
