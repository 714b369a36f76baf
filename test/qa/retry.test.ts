import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';

describe('POST /qa/{id}/retry', () => {
  const suite = useAskbaseSuite();

  const retry = (id: number | string) =>
    fetch(`${suite.askbase.url}/qa/${id}/retry`, { method: 'POST' });

  it('when a question failed, then retrying asks it again under the same id and stores the answer', async () => {
    suite.fake.setBehavior({ fault: 'server_error' });
    const failed = (await (
      await ask(suite.askbase.url, { question: 'Second chance?' })
    ).json()) as {
      error: { id: number };
    };
    suite.fake.setBehavior({ answer: () => 'Yes.' });

    const response = await retry(failed.error.id);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: failed.error.id,
      status: 'answered',
      answer: 'Yes.',
      error: null,
    });
    const rows = await suite.db.query('select status, answer from question_answers where id = $1', [
      failed.error.id,
    ]);
    expect(rows).toEqual([{ status: 'answered', answer: 'Yes.' }]);
  });

  it('when a question is already answered, then 409 not_retryable and no LLM call', async () => {
    const answered = (await (
      await ask(suite.askbase.url, { question: 'Done already' })
    ).json()) as {
      id: number;
    };
    suite.fake.reset();

    const response = await retry(answered.id);

    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({
      error: { code: 'not_retryable', id: answered.id },
    });
    expect(suite.fake.requests).toHaveLength(0);
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
