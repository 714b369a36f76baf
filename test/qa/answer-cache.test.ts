import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { type QaJson, expectOk } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { BOTH_DATABASES, unique } from '../helpers/each-database.js';

describe.each(BOTH_DATABASES)(
  'the answer cache on $driver',
  { timeout: 120_000 },
  ({ database }) => {
    const suite = useAskbaseSuite({ database, env: { CACHE_TTL_SECONDS: '3600' } });

    const askFor = async (body: Record<string, unknown>) =>
      expectOk<QaJson>(await ask(suite.askbase.url, body));
    const lookups = async (result: string) => {
      const text = await (await fetch(`${suite.askbase.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`askbase_answer_cache_lookups_total{result="${result}"}`));
      return Number(line?.split(' ').at(-1) ?? 0);
    };

    it('when the same question is asked again (spaces and Unicode form aside), then it is answered from the first, as a new question, with no LLM call and no cost', async () => {
      const question = unique('Café au lait?');
      const first = await askFor({ question });
      const again = await askFor({ question: `  ${question.normalize('NFD')}\n` });

      expect(suite.fake.requests).toHaveLength(1);
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
      const stored = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${again.id}`));
      expect(stored).toMatchObject({ answer: first.answer, cached_from: first.id });
    });

    it('when the earlier answer is older than CACHE_TTL_SECONDS, then the LLM is asked again; a second younger, it is not', async () => {
      const stale = unique('Stale?');
      const fresh = unique('Fresh?');
      const staleFirst = await askFor({ question: stale });
      const freshFirst = await askFor({ question: fresh });
      // Aged in the database, whose clock the TTL is measured by: no waiting.
      const age = (id: number, seconds: number) =>
        suite.askbase.database.db.execute(
          sql`update question_answers set answered_at = now() - ${seconds} * interval '1 second' where id = ${id}`,
        );
      await age(staleFirst.id, 3601);
      await age(freshFirst.id, 3599);

      const staleAgain = await askFor({ question: stale });
      const freshAgain = await askFor({ question: fresh });

      expect(staleAgain.cached_from).toBeNull();
      expect(freshAgain.cached_from).toBe(freshFirst.id);
      expect(suite.fake.requests.map((request) => request.messages.at(-1)?.content)).toEqual([
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
      expect(suite.fake.requests).toHaveLength(4);
      expect(bypassed.cached_from).toBeNull();
      expect(afterPrivate.cached_from).toBeNull();
    });

    it('when identical asks arrive while the first is still with the LLM, then there is one LLM call and the others get its answer', async () => {
      const question = unique('All at once?');
      const waitedBefore = await lookups('waited');
      suite.fake.hold();
      const leader = ask(suite.askbase.url, { question });
      await suite.fake.waitForInFlight(1);
      const followers = Array.from({ length: 4 }, () => ask(suite.askbase.url, { question }));
      await waitFor(async () => (await lookups('waited')) - waitedBefore === 4, {
        what: 'the four identical asks to wait for the first',
      });
      suite.fake.release();

      const first = await expectOk<QaJson>(await leader);
      const others = await Promise.all(followers.map(async (r) => expectOk<QaJson>(await r)));

      expect(suite.fake.requests).toHaveLength(1);
      expect(others.map((qa) => qa.cached_from)).toEqual([first.id, first.id, first.id, first.id]);
      expect(new Set(others.map((qa) => qa.id)).size).toBe(4);
    });
  },
);

describe('the answer cache, off by default', () => {
  const suite = useAskbaseSuite();

  it('when CACHE_TTL_SECONDS is unset, then every ask goes to the LLM', async () => {
    await ask(suite.askbase.url, { question: 'Twice?' });
    const second = await expectOk<QaJson>(await ask(suite.askbase.url, { question: 'Twice?' }));
    expect(suite.fake.requests).toHaveLength(2);
    expect(second.cached_from).toBeNull();
  });
});
