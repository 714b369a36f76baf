import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai/fake-openai.js';
import { type RunningAskbase, ask, startAskbase } from './helpers/askbase.js';
import { type PostgresServer, createPostgresServer } from './helpers/postgres-server.js';

interface Qa {
  id: number;
  answer: string | null;
  status: string;
  error: { code: string } | null;
}

/** These tests stop and start a PostgreSQL server of their own; the shared one stays up. */
describe('database outages', () => {
  let fake: FakeOpenAI;
  let server: PostgresServer;
  const running: RunningAskbase[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await createPostgresServer();
  }, 120_000);
  afterEach(async () => {
    fake.reset();
    await server.start().catch(() => undefined);
    await Promise.all(running.splice(0).map((askbase) => askbase.stop()));
  });
  afterAll(async () => {
    await server?.destroy();
    await fake?.close();
  });

  const start = async (env: Record<string, string> = {}, options = {}) => {
    const askbase = await startAskbase(
      {
        DATABASE_URL: server.url,
        OPENAI_BASE_URL: fake.baseUrl,
        DB_CONNECT_BACKOFF_MAX_MS: '200',
        SPOOL_REPLAY_INTERVAL_MS: '100',
        ...env,
      },
      options,
    );
    running.push(askbase);
    return askbase;
  };
  const countRows = async () => {
    const client = new pg.Client(server.url);
    await client.connect();
    const { rows } = await client.query<{ count: string }>('select count(*) from question_answers');
    await client.end();
    return Number(rows[0]?.count);
  };

  it('when the database is down as a question arrives, then 503 database_unavailable and nothing is spent on the LLM', async () => {
    const askbase = await start();
    await server.stop();

    const response = await ask(askbase.url, { question: 'Anyone there?' });

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'database_unavailable',
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('when the service starts before the database, then it is not ready, refuses asks, and recovers once the database is up', async () => {
    await server.stop();
    const askbase = await start({}, { waitUntilReady: false });

    expect((await fetch(`${askbase.url}/is_up`)).status).toBe(200);
    expect((await fetch(`${askbase.url}/health/ready`)).status).toBe(503);
    expect((await ask(askbase.url, { question: 'Too early?' })).status).toBe(503);

    await server.start();
    await expect
      .poll(async () => (await fetch(`${askbase.url}/health/ready`)).status, { timeout: 15_000 })
      .toBe(200);
    expect((await ask(askbase.url, { question: 'Now?' })).status).toBe(200);
  });

  it('when the database restarts mid-run, then requests during the outage get 503 and the service recovers without a restart', async () => {
    const askbase = await start();
    expect((await ask(askbase.url, { question: 'Before' })).status).toBe(200);

    await server.stop();
    const during = await ask(askbase.url, { question: 'During' });
    await server.start();

    expect(during.status).toBe(503);
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe(
      'database_unavailable',
    );
    await expect
      .poll(async () => (await ask(askbase.url, { question: 'After' })).status, { timeout: 15_000 })
      .toBe(200);
  });

  it('when the database goes away while the LLM answers, then the client still gets the answer, which is spooled and replayed', async () => {
    const askbase = await start({ ANSWER_STORE_ATTEMPTS: '2', ANSWER_STORE_BACKOFF_MS: '50' });
    fake.setBehavior({ answer: () => 'An answer already paid for.' });
    fake.hold();

    const pending = ask(askbase.url, { question: 'Will my answer survive?' });
    await fake.waitForInFlight(1);
    await server.stop();
    fake.release();
    const response = await pending;

    expect(response.status).toBe(200);
    const body = (await response.json()) as Qa;
    expect(body).toMatchObject({ status: 'answered', answer: 'An answer already paid for.' });
    const spool = await readFile(join(askbase.config.dataDir, 'spool', 'outcomes.jsonl'), 'utf8');
    expect(spool).toContain('An answer already paid for.');

    await server.start();
    await expect
      .poll(
        async () => {
          const stored = await fetch(`${askbase.url}/qa/${body.id}`);
          return stored.status === 200 ? ((await stored.json()) as Qa).answer : undefined;
        },
        { timeout: 15_000 },
      )
      .toBe('An answer already paid for.');
    await expect
      .poll(() => readFile(join(askbase.config.dataDir, 'spool', 'outcomes.jsonl'), 'utf8'))
      .toBe('');
  });

  it('when the database goes away while the LLM answers an ask that keeps no text, then the spool holds the outcome without the text', async () => {
    const askbase = await start({ ANSWER_STORE_ATTEMPTS: '2', ANSWER_STORE_BACKOFF_MS: '50' });
    fake.setBehavior({ answer: () => 'A private answer already paid for.' });
    fake.hold();

    const pending = ask(askbase.url, { question: 'A private question?', store: false });
    await fake.waitForInFlight(1);
    await server.stop();
    fake.release();
    const response = await pending;

    expect(response.status).toBe(200);
    const body = (await response.json()) as Qa;
    expect(body).toMatchObject({
      status: 'answered',
      answer: 'A private answer already paid for.',
    });
    const spool = await readFile(join(askbase.config.dataDir, 'spool', 'outcomes.jsonl'), 'utf8');
    expect(spool).toContain(`"id":${body.id}`);
    expect(spool).not.toContain('private');

    await server.start();
    await expect
      .poll(
        async () => {
          const stored = await fetch(`${askbase.url}/qa/${body.id}`);
          return stored.status === 200 ? ((await stored.json()) as Qa).status : undefined;
        },
        { timeout: 15_000 },
      )
      .toBe('answered');
  });

  it('when 200 asks meet a flaky LLM and a database restart, then every outcome is stored and none is left pending', async () => {
    const askbase = await start({
      ANSWER_STORE_ATTEMPTS: '3',
      ANSWER_STORE_BACKOFF_MS: '100',
      DB_POOL_MAX: '10',
    });
    const faults = ['server_error', 'bad_request', 'malformed'] as const;
    let n = 0;
    fake.setBehavior(() => {
      n += 1;
      // Deterministic "random third": every third request fails, cycling through fault kinds.
      return {
        latencyMs: 50 + (n % 7) * 40,
        fault: n % 3 === 0 ? faults[(n / 3) % faults.length] : 'none',
      };
    });
    const before = await countRows();

    const responses = Array.from({ length: 200 }, (_, i) =>
      ask(askbase.url, { question: `Burst question ${i}` }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as Qa & { error: { code: string; id?: number } | null },
      })),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.start();
    const results = await Promise.all(responses);

    expect(new Set(results.map((r) => r.status))).toSatisfy((statuses: Set<number>) =>
      [...statuses].every((status) => [200, 502, 503, 504].includes(status)),
    );
    // Wait for spooled outcomes to be replayed and for nothing to be pending.
    const client = new pg.Client(server.url);
    await client.connect();
    try {
      await expect
        .poll(
          async () =>
            (
              await client.query<{ count: string }>(
                "select count(*) from question_answers where status = 'pending'",
              )
            ).rows[0]?.count,
          { timeout: 20_000 },
        )
        .toBe('0');
      for (const { status, body } of results) {
        if (status === 200) {
          const { rows } = await client.query(
            'select status, answer from question_answers where id = $1',
            [body.id],
          );
          expect(rows[0]).toEqual({ status: 'answered', answer: body.answer });
        } else if (body.error?.id !== undefined) {
          const { rows } = await client.query(
            'select status, error_code from question_answers where id = $1',
            [body.error.id],
          );
          expect(rows[0]).toMatchObject({ status: 'failed', error_code: body.error.code });
        } else {
          expect(body.error?.code).toBe('database_unavailable');
        }
      }
      const stored = results.filter(
        (r) => r.status === 200 || r.body.error?.id !== undefined,
      ).length;
      expect(await countRows()).toBe(before + stored);
    } finally {
      await client.end();
    }
  }, 60_000);
});
