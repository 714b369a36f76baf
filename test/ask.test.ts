import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai/fake-openai.js';
import { type RunningAskbase, ask, startAskbase } from './helpers/askbase.js';
import { type TestDatabase, createTestDatabase } from './helpers/database.js';

describe('POST /ask on PostgreSQL', () => {
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

  it('when the LLM answers, then the answer is returned and stored exactly as the LLM gave it', async () => {
    fake.setBehavior({ answer: () => 'Paris.' });

    const response = await ask(askbase.url, { question: 'What is the capital of France?' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      question: 'What is the capital of France?',
      answer: 'Paris.',
      status: 'answered',
      model: 'gpt-5-mini',
      error: null,
    });
    expect(new Date(body.created_at as string).toISOString()).toBe(body.created_at);
    const [row] = await db.query('select answer, status from question_answers where id = $1', [
      body.id,
    ]);
    expect(row).toEqual({ answer: 'Paris.', status: 'answered' });
  });
});
