import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { OutcomeRecorder } from '../src/qa/outcome-recorder.js';
import { OutcomeSpool } from '../src/qa/outcome-spool.js';
import { QuestionRepository } from '../src/repository/question-repository.js';
import { type TestDatabase, createTestDatabase } from './helpers/database.js';
import { closedPortBaseUrl } from './helpers/http.js';

const logger = createLogger('silent');

describe('the outcome recorder, alone: durability without the LLM or HTTP', () => {
  let db: TestDatabase;
  let reachable: Database;
  let unreachable: Database;
  let spoolDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    reachable = await openDatabase({ url: db.url, poolMax: 2, logger });
    await reachable.migrate();
    // Nothing listens there: every statement fails as "database unavailable".
    const closed = new URL(await closedPortBaseUrl());
    unreachable = await openDatabase({
      url: `postgres://askbase:none@127.0.0.1:${closed.port}/askbase`,
      poolMax: 1,
      logger,
    });
    spoolDir = await mkdtemp(join(tmpdir(), 'askbase-test-spool-'));
  });
  afterAll(async () => {
    await reachable?.close();
    await unreachable?.close();
    await db?.drop();
    await rm(spoolDir, { recursive: true, force: true });
  });

  const recorder = (database: Database, spool: OutcomeSpool) =>
    new OutcomeRecorder({
      store: new QuestionRepository(database),
      spool,
      storeAttempts: 2,
      storeBackoffMs: 1,
      logger,
    });

  it('when the database cannot take an answer, then it is spooled to disk, and a later replay stores it on its row', async () => {
    const store = new QuestionRepository(reachable);
    const { questionAnswer: pending } = await store.createPending('Kept through an outage?', {
      deadlineMs: 60_000,
    });
    const spool = await OutcomeSpool.open(spoolDir, logger);
    const answer = { text: 'Yes.', model: 'm', usage: null, latencyMs: 5 };

    const stored = await recorder(unreachable, spool).record({
      kind: 'answered',
      id: pending.id,
      attempt: pending.attempt,
      answer,
      answeredAt: new Date().toISOString(),
    });

    expect(stored).toBeUndefined();
    expect(spool.size()).toBe(1);
    expect(await readFile(join(spoolDir, 'outcomes.jsonl'), 'utf8')).toContain(
      `"id":${pending.id}`,
    );

    const emptied = await recorder(reachable, spool).replay();

    expect(emptied).toBe(true);
    expect(spool.size()).toBe(0);
    expect(await store.get(pending.id)).toMatchObject({ status: 'answered', answer: 'Yes.' });
  });
});
