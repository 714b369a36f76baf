import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { type QaJson, expectError, expectOk } from '../helpers/http.js';
import { allEvents } from '../helpers/server-sent-events.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { BOTH_DATABASES, unique } from '../helpers/each-database.js';

describe.each(BOTH_DATABASES)('"store": false on $driver', { timeout: 120_000 }, ({ database }) => {
  const suite = useAskbaseSuite({ database });

  /** The stored row as JSON text, every column, to look for text that must not be there. */
  async function rawRow(id: number): Promise<string> {
    const result = await suite.askbase.database.db.execute(
      sql`select row_to_json(q)::text as row from question_answers q where id = ${id}`,
    );
    return (result as { rows: { row: string }[] }).rows[0]?.row ?? '';
  }

  it('when an ask says "store": false, then the client gets its answer, and the row keeps everything but the text', async () => {
    const secret = unique('private question ');
    suite.fake.setBehavior({ answer: () => `Private answer to ${secret}` });

    const answered = await expectOk<QaJson>(
      await ask(suite.askbase.url, { question: secret, store: false }),
    );
    const stored = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${answered.id}`));

    expect(answered).toMatchObject({
      question: secret,
      answer: `Private answer to ${secret}`,
      status: 'answered',
      text_stored: false,
    });
    expect(stored).toEqual({ ...answered, question: null, answer: null });
    expect(stored.usage).not.toBeNull();
    expect(stored.model).not.toBeNull();
    expect(stored.latency_ms).not.toBeNull();
    expect(await rawRow(answered.id)).not.toContain('private question');
    expect(await rawRow(answered.id)).not.toContain('Private answer');
  });

  it('when a question was not stored, then no search finds it, and it is listed and exported without text', async () => {
    const word = unique('hidden');
    const { id } = await expectOk<QaJson>(
      await ask(suite.askbase.url, { question: `${word} question`, store: false }),
    );

    const found = await expectOk<QaJson[]>(await fetch(`${suite.askbase.url}/qas?q=${word}`));
    const listed = await expectOk<QaJson[]>(await fetch(`${suite.askbase.url}/qas?limit=1000`));
    const exported = (await (await fetch(`${suite.askbase.url}/qas/export`)).text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as QaJson);

    expect(found).toEqual([]);
    expect(listed.find((qa) => qa.id === id)).toMatchObject({ question: null, text_stored: false });
    expect(exported.find((qa) => qa.id === id)).toMatchObject({
      question: null,
      answer: null,
      text_stored: false,
    });
  });

  it('when a streamed ask says "store": false, then the stream carries the answer and the row keeps none of it', async () => {
    const question = unique('streamed private ');
    const response = await fetch(`${suite.askbase.url}/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ question, store: false }),
    });
    const events = await allEvents(response);
    const done = events.at(-1)?.data as QaJson;

    expect(events.at(-1)?.event).toBe('done');
    expect(done).toMatchObject({ question, answer: `Answer to: ${question}`, text_stored: false });
    expect(await rawRow(done.id)).not.toContain('streamed private');
  });

  it('when the LLM fails on a question that was not stored, then the row is failed without text and cannot be retried', async () => {
    suite.fake.setBehavior({ fault: 'bad_request' });
    const question = unique('failing private ');

    const { error } = await expectError(
      await ask(suite.askbase.url, { question, store: false }),
      502,
      'llm_bad_response',
    );
    const stored = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${error.id}`));
    suite.fake.reset();
    const retried = await fetch(`${suite.askbase.url}/qa/${error.id}/retry`, { method: 'POST' });

    expect(stored).toMatchObject({ status: 'failed', question: null, text_stored: false });
    const refused = await expectError(retried, 409, 'not_retryable');
    expect(refused.error.message).toContain('not stored');
    expect(suite.fake.requests).toHaveLength(0);
  });
});

describe('STORE_TEXT=false', () => {
  const suite = useAskbaseSuite({ env: { STORE_TEXT: 'false' } });

  it('when text is not kept by default, then an ask keeps none unless it says "store": true', async () => {
    const plain = await expectOk<QaJson>(await ask(suite.askbase.url, { question: 'By default?' }));
    const kept = await expectOk<QaJson>(
      await ask(suite.askbase.url, { question: 'Keep me', store: true }),
    );

    const readPlain = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${plain.id}`));
    const readKept = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${kept.id}`));
    expect(readPlain).toMatchObject({ question: null, answer: null, text_stored: false });
    expect(readKept).toMatchObject({ question: 'Keep me', text_stored: true });
  });
});
