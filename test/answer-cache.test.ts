import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai/fake-openai.js';
import { type RunningAskbase, ask, startAskbase } from './helpers/askbase.js';
import { type TestDatabase, createTestDatabase } from './helpers/database.js';
import { type QaJson, expectOk } from './helpers/http.js';
import { waitFor } from './helpers/wait-for.js';
import { BOTH_DATABASES, unique } from './helpers/each-database.js';

describe.each(BOTH_DATABASES)(
  'the answer cache on $driver',
  { timeout: 120_000 },
  ({ embedded }) => {
    let fake: FakeOpenAI;
    let db: TestDatabase | undefined;
    let askbase: RunningAskbase;

    beforeAll(async () => {
      fake = await startFakeOpenAI();
      db = embedded ? undefined : await createTestDatabase();
      askbase = await startAskbase({
        DATABASE_URL: db?.url,
        OPENAI_BASE_URL: fake.baseUrl,
        CACHE_TTL_SECONDS: '3600',
      });
    });
    afterAll(async () => {
      await askbase?.stop();
      await db?.drop();
      await fake?.close();
    });
    beforeEach(() => fake.reset());

    const askFor = async (body: Record<string, unknown>) =>
      expectOk<QaJson>(await ask(askbase.url, body));
    const lookups = async (result: string) => {
      const text = await (await fetch(`${askbase.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`askbase_answer_cache_lookups_total{result="${result}"}`));
      return Number(line?.split(' ').at(-1) ?? 0);
    };

    it('when the same question is asked again (spaces and Unicode form aside), then it is answered from the first, as a new question, with no LLM call and no cost', async () => {
      const question = unique('Café au lait?');
      const first = await askFor({ question });
      const again = await askFor({ question: `  ${question.normalize('NFD')}\n` });

      expect(fake.requests).toHaveLength(1);
      expect(again.id).not.toBe(first.id);
      expect(again).toMatchObject({
        question: question.normalize('NFD'),
        answer: first.answer,
        status: 'answered',
        cached_from: first.id,
        cost_usd: 0,
        usage: null,
      });
      expect(first.cached_from).toBeNull();
      const stored = await expectOk<QaJson>(await fetch(`${askbase.url}/qa/${again.id}`));
      expect(stored).toMatchObject({ answer: first.answer, cached_from: first.id });
    });

    it('when the earlier answer is older than CACHE_TTL_SECONDS, then the LLM is asked again; a second younger, it is not', async () => {
      const stale = unique('Stale?');
      const fresh = unique('Fresh?');
      const staleFirst = await askFor({ question: stale });
      const freshFirst = await askFor({ question: fresh });
      // Aged in the database, whose clock the TTL is measured by: no waiting.
      const age = (id: number, seconds: number) =>
        askbase.database.db.execute(
          sql`update question_answers set answered_at = now() - ${seconds} * interval '1 second' where id = ${id}`,
        );
      await age(staleFirst.id, 3601);
      await age(freshFirst.id, 3599);

      const staleAgain = await askFor({ question: stale });
      const freshAgain = await askFor({ question: fresh });

      expect(staleAgain.cached_from).toBeNull();
      expect(freshAgain.cached_from).toBe(freshFirst.id);
      expect(fake.requests.map((request) => request.messages.at(-1)?.content)).toEqual([
        stale,
        fresh,
        stale,
      ]);
    });

    it('when an ask says "cache": false, or its text was not stored, then the LLM is asked', async () => {
      const question = unique('Fresh, please?');
      await askFor({ question });
      const bypassed = await askFor({ question, cache: false });
      const privateQuestion = unique('Private?');
      await askFor({ question: privateQuestion, store: false });
      const afterPrivate = await askFor({ question: privateQuestion });

      // The first ask, the bypass, the private one, and the private one again: nothing to copy.
      expect(fake.requests).toHaveLength(4);
      expect(bypassed.cached_from).toBeNull();
      expect(afterPrivate.cached_from).toBeNull();
    });

    it('when identical asks arrive while the first is still with the LLM, then there is one LLM call and the others get its answer', async () => {
      const question = unique('All at once?');
      const waitedBefore = await lookups('waited');
      fake.hold();
      const leader = ask(askbase.url, { question });
      await fake.waitForInFlight(1);
      const followers = Array.from({ length: 4 }, () => ask(askbase.url, { question }));
      await waitFor(async () => (await lookups('waited')) - waitedBefore === 4, {
        what: 'the four identical asks to wait for the first',
      });
      fake.release();

      const first = await expectOk<QaJson>(await leader);
      const others = await Promise.all(followers.map(async (r) => expectOk<QaJson>(await r)));

      expect(fake.requests).toHaveLength(1);
      expect(others.map((qa) => qa.cached_from)).toEqual([first.id, first.id, first.id, first.id]);
      expect(new Set(others.map((qa) => qa.id)).size).toBe(4);
    });
  },
);

describe('the answer cache, off by default', () => {
  it('when CACHE_TTL_SECONDS is unset, then every ask goes to the LLM', async () => {
    const fake = await startFakeOpenAI();
    const db = await createTestDatabase();
    const askbase = await startAskbase({ DATABASE_URL: db.url, OPENAI_BASE_URL: fake.baseUrl });
    try {
      await ask(askbase.url, { question: 'Twice?' });
      const second = await expectOk<QaJson>(await ask(askbase.url, { question: 'Twice?' }));
      expect(fake.requests).toHaveLength(2);
      expect(second.cached_from).toBeNull();
    } finally {
      await askbase.stop();
      await db.drop();
      await fake.close();
    }
  });
});
