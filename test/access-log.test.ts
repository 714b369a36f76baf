import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai/fake-openai.js';
import { type RunningAskbase, ask, startAskbase } from './helpers/askbase.js';
import { type TestDatabase, createTestDatabase } from './helpers/database.js';
import { unique } from './helpers/each-database.js';
import { waitFor } from './helpers/wait-for.js';

describe('the access log at the default level', () => {
  let fake: FakeOpenAI;
  let db: TestDatabase;
  let askbase: RunningAskbase;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    db = await createTestDatabase();
    askbase = await startAskbase(
      { DATABASE_URL: db.url, OPENAI_BASE_URL: fake.baseUrl },
      { captureLogs: true },
    );
  });
  afterAll(async () => {
    await askbase?.stop();
    await db?.drop();
    await fake?.close();
  });

  /**
   * The log lines of a request, once its access line is written: that happens as the response
   * finishes on the server, which may be just after the client has read it.
   */
  const linesOf = async (requestId: string | null) => {
    const of = () => askbase.logs.filter((line) => line.reqId === requestId);
    await waitFor(() => of().some((line) => line.msg === 'request completed'), {
      what: 'the access-log line',
    });
    return of();
  };

  it('when a request is served, then one line says its method, path, status and time', async () => {
    const response = await ask(askbase.url, { question: unique('Logged once?') });
    await response.text();

    const lines = await linesOf(response.headers.get('x-request-id'));

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      method: 'POST',
      path: '/ask',
      statusCode: 200,
    });
    expect(lines[0]?.ms).toEqual(expect.any(Number));
  });

  it('when a search is served, then its words are not in the log', async () => {
    const secret = unique('secretword');
    const response = await fetch(`${askbase.url}/qas?q=${secret}&limit=5`);
    await response.text();

    const lines = await linesOf(response.headers.get('x-request-id'));

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ path: '/qas', statusCode: 200 });
    expect(JSON.stringify(askbase.logs)).not.toContain(secret);
  });
});
