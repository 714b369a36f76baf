import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';

describe('Idempotency-Key on POST /ask', () => {
  const suite = useAskbaseSuite();

  const key = () => `key-${crypto.randomUUID()}`;

  it('when the same key is sent again, then the stored result comes back without a second LLM call', async () => {
    const idempotencyKey = key();
    const first = await ask(
      suite.askbase.url,
      { question: 'Why is the sky blue?' },
      { 'idempotency-key': idempotencyKey },
    );
    const second = await ask(
      suite.askbase.url,
      { question: 'Why is the sky blue?' },
      { 'idempotency-key': idempotencyKey },
    );

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const [a, b] = [
      (await first.json()) as { id: number; answer: string },
      (await second.json()) as { id: number; answer: string },
    ];
    expect(b.id).toBe(a.id);
    expect(b.answer).toBe(a.answer);
    expect(suite.fake.requests).toHaveLength(1);
    const rows = await suite.db.query(
      'select id from question_answers where idempotency_key = $1',
      [idempotencyKey],
    );
    expect(rows).toHaveLength(1);
  });

  it('when the same key comes with a different question, then 422 idempotency_key_reused and no LLM call', async () => {
    const idempotencyKey = key();
    await ask(
      suite.askbase.url,
      { question: 'First question' },
      { 'idempotency-key': idempotencyKey },
    );

    const reused = await ask(
      suite.askbase.url,
      { question: 'Another question' },
      { 'idempotency-key': idempotencyKey },
    );

    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(((await reused.json()) as { error: { code: string } }).error.code).toBe(
      'idempotency_key_reused',
    );
    expect(suite.fake.requests).toHaveLength(1);
  });

  it('when the first request with a key is still in flight, then a second gets 409 request_in_progress', async () => {
    suite.fake.hold();
    const idempotencyKey = key();
    const first = ask(
      suite.askbase.url,
      { question: 'Slow question' },
      { 'idempotency-key': idempotencyKey },
    );
    await suite.fake.waitForInFlight(1);

    const second = await ask(
      suite.askbase.url,
      { question: 'Slow question' },
      { 'idempotency-key': idempotencyKey },
    );

    expect(second.status).toBe(409);
    const body = (await second.json()) as { error: { code: string; id: number } };
    expect(body.error.code).toBe('request_in_progress');
    suite.fake.release();
    expect((await first).status).toBe(200);
    expect(suite.fake.requests).toHaveLength(1);
  });

  it('when the first request with a key failed, then repeating it returns the same failure and id without a new LLM call', async () => {
    suite.fake.setBehavior({ fault: 'server_error' });
    const idempotencyKey = key();
    const first = await ask(
      suite.askbase.url,
      { question: 'Doomed question' },
      { 'idempotency-key': idempotencyKey },
    );
    suite.fake.setBehavior({});
    const second = await ask(
      suite.askbase.url,
      { question: 'Doomed question' },
      { 'idempotency-key': idempotencyKey },
    );

    expect(first.status).toBe(503);
    expect(second.status).toBe(503);
    const [a, b] = [
      (await first.json()) as { error: { id: number; code: string } },
      (await second.json()) as { error: { id: number; code: string } },
    ];
    expect(b.error).toMatchObject({ code: 'llm_unavailable', id: a.error.id });
    expect(suite.fake.requests).toHaveLength(1);
  });

  it.each([
    ['longer than 255 characters', 'k'.repeat(256)],
    ['containing a space', 'two words'],
    ['containing non-ASCII text', 'clé'],
  ])(
    'when the key is %s, then 400 invalid_request and nothing is stored',
    async (_, idempotencyKey) => {
      const before = await suite.db.query<{ count: string }>(
        'select count(*) from question_answers',
      );

      const response = await ask(
        suite.askbase.url,
        { question: 'Keyed question' },
        { 'idempotency-key': idempotencyKey },
      );

      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'invalid_request',
      );
      expect(await suite.db.query('select count(*) from question_answers')).toEqual(before);
    },
  );

  describe('with API keys', () => {
    const keyed = useAskbaseSuite({
      env: { API_KEYS: 'alice:alice-test-key-1,bob:bob-test-key-2' },
    });

    it('when two API keys send the same Idempotency-Key, then each gets its own question, not the other one', async () => {
      const idempotencyKey = key();
      const askAs = async (apiKey: string, question: string) =>
        ask(
          keyed.askbase.url,
          { question },
          { 'idempotency-key': idempotencyKey, authorization: `Bearer ${apiKey}` },
        );

      const alice = await askAs('alice-test-key-1', 'What did Alice ask?');
      const bob = await askAs('bob-test-key-2', 'What did Bob ask?');
      const aliceAgain = await askAs('alice-test-key-1', 'What did Alice ask?');

      const [a, b, again] = (await Promise.all([alice, bob, aliceAgain].map((r) => r.json()))) as {
        id: number;
        question: string;
        key_name: string;
      }[];
      expect([alice.status, bob.status, aliceAgain.status]).toEqual([200, 200, 200]);
      expect(b?.id).not.toBe(a?.id);
      expect(b).toMatchObject({ question: 'What did Bob ask?', key_name: 'bob' });
      expect(again?.id).toBe(a?.id);
      expect(keyed.fake.requests).toHaveLength(2);
    });
  });
});
