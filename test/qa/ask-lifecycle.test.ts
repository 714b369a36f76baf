import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { type QaJson, expectError, expectOk } from '../helpers/http.js';
import { allEvents } from '../helpers/server-sent-events.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { waitFor } from '../helpers/wait-for.js';

describe('the ask lifecycle: attempts, deadlines', () => {
  // Each test starts an askbase with the limits it tries.
  const suite = useAskbaseSuite({ askbase: false });

  it('when a question that failed long ago is retried, then recovery leaves the live attempt alone, a second retry is refused, and the LLM is asked once', async () => {
    const gate = await suite.gate();
    const askbase = await suite.start({
      OPENAI_BASE_URL: gate.baseUrl,
      OPENAI_TIMEOUT_MS: '1000',
    });
    const [old] = await suite.db.query<{ id: number }>(
      `insert into question_answers (question, status, error_code, error_message, created_at)
       values ('Asked last year?', 'failed', 'llm_timeout', 'slow', now() - interval '365 days')
       returning id`,
    );
    const id = Number(old!.id);
    const requestsBefore = suite.fake.requests.length;

    const retrying = fetch(`${askbase.url}/qa/${id}/retry`, { method: 'POST' });
    await waitFor(() => gate.held() === 1, { what: 'the retry to reach the LLM' });
    await askbase.recovery.run(0); // what the periodic recovery does, with no margin at all

    const second = await fetch(`${askbase.url}/qa/${id}/retry`, { method: 'POST' });
    await expectError(second, 409, 'not_retryable');
    gate.open();
    const answered = await expectOk<QaJson>(await retrying);

    expect(answered).toMatchObject({ id, status: 'answered', error: null });
    expect(suite.fake.requests.length - requestsBefore).toBe(1);
  });

  it('when the LLM keeps answering 429 with a long Retry-After, then the ask ends at its total deadline as llm_timeout', async () => {
    const askbase = await suite.start({
      OPENAI_MAX_RETRIES: '2',
      ASK_TIMEOUT_MS: '500',
    });
    suite.fake.setBehavior({ fault: 'rate_limit' }); // Retry-After: 7, which the SDK would sleep out

    const { error } = await expectError(
      await ask(askbase.url, { question: 'Rate limited?' }),
      504,
      'llm_timeout',
    );

    const [row] = await suite.db.query(
      'select status, error_code from question_answers where id = $1',
      [error.id],
    );
    expect(row).toEqual({ status: 'failed', error_code: 'llm_timeout' });
    suite.fake.reset();
  });

  it('when a streamed answer trickles in past the total deadline, then the stream ends with an llm_timeout error event and the row is failed', async () => {
    const askbase = await suite.start({
      OPENAI_TIMEOUT_MS: '10000',
      ASK_TIMEOUT_MS: '500',
    });
    // Each piece arrives well within the per-request timeout; the whole never would.
    suite.fake.setBehavior({ chunkDelayMs: 100, answer: () => 'word '.repeat(400) });

    const response = await ask(askbase.url, { question: 'Long answer?', stream: true });
    const events = await allEvents(response);

    const last = events.at(-1);
    expect(last?.event).toBe('error');
    const { error } = last?.data as { error: { code: string; id: number } };
    expect(error.code).toBe('llm_timeout');
    const [row] = await suite.db.query(
      'select status, error_code from question_answers where id = $1',
      [error.id],
    );
    expect(row).toEqual({ status: 'failed', error_code: 'llm_timeout' });
    suite.fake.reset();
  });
});
