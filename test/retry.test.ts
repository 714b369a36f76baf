import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai/fake-openai.js';
import { type RunningAskbase, ask, startAskbase } from './helpers/askbase.js';
import { type TestDatabase, createTestDatabase } from './helpers/database.js';

describe('POST /qa/{id}/retry', () => {
  let fake: FakeOpenAI;
  let db: TestDatabase;
  let askbase: RunningAskbase;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    db = await createTestDatabase();
    askbase = await startAskbase({ DATABASE_URL: db.url, OPENAI_BASE_URL: fake.baseUrl });
  });
  afterAll(async () => {
    await askbase?.stop();
    await db?.drop();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const retry = (id: number | string) => fetch(`${askbase.url}/qa/${id}/retry`, { method: 'POST' });

  it('when a question failed, then retrying asks it again under the same id and stores the answer', async () => {
    fake.setBehavior({ fault: 'server_error' });
    const failed = (await (await ask(askbase.url, { question: 'Second chance?' })).json()) as {
      error: { id: number };
    };
    fake.setBehavior({ answer: () => 'Yes.' });

    const response = await retry(failed.error.id);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: failed.error.id,
      status: 'answered',
      answer: 'Yes.',
      error: null,
    });
    const rows = await db.query('select status, answer from question_answers where id = $1', [
      failed.error.id,
    ]);
    expect(rows).toEqual([{ status: 'answered', answer: 'Yes.' }]);
  });

  it('when a question is already answered, then 409 not_retryable and no LLM call', async () => {
    const answered = (await (await ask(askbase.url, { question: 'Done already' })).json()) as {
      id: number;
    };
    fake.reset();

    const response = await retry(answered.id);

    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({
      error: { code: 'not_retryable', id: answered.id },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it.each([
    [404, 'not_found', 987654321],
    [400, 'invalid_request', 'abc'],
  ])('when the id is unknown or invalid, then %i %s', async (status, code, id) => {
    const response = await retry(id);

    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  });
});
