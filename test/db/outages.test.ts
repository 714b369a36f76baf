import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningAskbase, ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';

interface Qa {
  id: number;
  answer: string | null;
  status: string;
  error: { code: string } | null;
}

/** These tests stop and start a PostgreSQL server of their own; the shared one stays up. */
describe('database outages', () => {
  // Each test starts askbase on the suite's server, which it may stop.
  const suite = useAskbaseSuite({
    database: 'postgres server',
    askbase: false,
    env: { DB_CONNECT_BACKOFF_MAX_MS: '200', SPOOL_REPLAY_INTERVAL_MS: '100' },
  });
  const start = suite.start;
  // Each test finds the server up, whatever the last one did (its askbases stop after this).
  afterEach(async () => {
    await suite.server.start().catch(() => undefined);
  });
  /**
   * Asks with `body` while the LLM answers `answer`, and stops the database while the LLM is at
   * it: the ask's outcome has nowhere to go but the spool. Returns the response.
   */
  const askWhileTheDatabaseGoes = async (askbase: RunningAskbase, body: object, answer: string) => {
    suite.fake.setBehavior({ answer: () => answer });
    suite.fake.hold();
    const pending = ask(askbase.url, body);
    await suite.fake.waitForInFlight(1);
    await suite.server.stop();
    suite.fake.release();
    return pending;
  };
  const spoolOf = (askbase: RunningAskbase) =>
    readFile(join(askbase.config.dataDir, 'spool', 'outcomes.jsonl'), 'utf8');
  /** Starts the database again and waits until the row `id` reads back with `field` as `value`. */
  const storedOnceBack = async (
    askbase: RunningAskbase,
    id: number,
    field: 'answer' | 'status',
    value: string,
  ) => {
    await suite.server.start();
    await expect
      .poll(
        async () => {
          const stored = await fetch(`${askbase.url}/qa/${id}`);
          return stored.status === 200 ? ((await stored.json()) as Qa)[field] : undefined;
        },
        { timeout: 15_000 },
      )
      .toBe(value);
  };
  const countRows = async () => {
    const client = new pg.Client(suite.server.url);
    await client.connect();
    const { rows } = await client.query<{ count: string }>('select count(*) from question_answers');
    await client.end();
    return Number(rows[0]?.count);
  };

  it('when the database is down as a question arrives, then 503 database_unavailable and nothing is spent on the LLM', async () => {
    const askbase = await start();
    await suite.server.stop();

    const response = await ask(askbase.url, { question: 'Anyone there?' });

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'database_unavailable',
    );
    expect(suite.fake.requests).toHaveLength(0);
  });

  it('when the service starts before the database, then it is not ready, refuses asks, and recovers once the database is up', async () => {
    await suite.server.stop();
    const askbase = await start({}, { waitUntilReady: false });

    expect((await fetch(`${askbase.url}/is_up`)).status).toBe(200);
    expect((await fetch(`${askbase.url}/health/ready`)).status).toBe(503);
    expect((await ask(askbase.url, { question: 'Too early?' })).status).toBe(503);

    await suite.server.start();
    await expect
      .poll(async () => (await fetch(`${askbase.url}/health/ready`)).status, { timeout: 15_000 })
      .toBe(200);
    expect((await ask(askbase.url, { question: 'Now?' })).status).toBe(200);
  });

  it('when the database restarts mid-run, then requests during the outage get 503 and the service recovers without a restart', async () => {
    const askbase = await start();
    expect((await ask(askbase.url, { question: 'Before' })).status).toBe(200);

    await suite.server.stop();
    const during = await ask(askbase.url, { question: 'During' });
    await suite.server.start();

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

    const response = await askWhileTheDatabaseGoes(
      askbase,
      { question: 'Will my answer survive?' },
      'An answer already paid for.',
    );

    expect(response.status).toBe(200);
    const body = (await response.json()) as Qa;
    expect(body).toMatchObject({ status: 'answered', answer: 'An answer already paid for.' });
    expect(await spoolOf(askbase)).toContain('An answer already paid for.');

    await storedOnceBack(askbase, body.id, 'answer', 'An answer already paid for.');
    await expect.poll(() => spoolOf(askbase)).toBe('');
  });

  it('when the database goes away while the LLM answers an ask that keeps no text, then the spool holds the outcome without the text', async () => {
    const askbase = await start({ ANSWER_STORE_ATTEMPTS: '2', ANSWER_STORE_BACKOFF_MS: '50' });

    const response = await askWhileTheDatabaseGoes(
      askbase,
      { question: 'A private question?', store: false },
      'A private answer already paid for.',
    );

    expect(response.status).toBe(200);
    const body = (await response.json()) as Qa;
    expect(body).toMatchObject({
      status: 'answered',
      answer: 'A private answer already paid for.',
    });
    const spool = await spoolOf(askbase);
    expect(spool).toContain(`"id":${body.id}`);
    expect(spool).not.toContain('private');

    await storedOnceBack(askbase, body.id, 'status', 'answered');
  });

  it('when 200 asks meet a flaky LLM and a database restart, then every outcome is stored and none is left pending', async () => {
    const askbase = await start({
      ANSWER_STORE_ATTEMPTS: '3',
      ANSWER_STORE_BACKOFF_MS: '100',
      DB_POOL_MAX: '10',
    });
    const faults = ['server_error', 'bad_request', 'malformed'] as const;
    let n = 0;
    suite.fake.setBehavior(() => {
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
    await suite.server.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await suite.server.start();
    const results = await Promise.all(responses);

    expect(new Set(results.map((r) => r.status))).toSatisfy((statuses: Set<number>) =>
      [...statuses].every((status) => [200, 502, 503, 504].includes(status)),
    );
    // Wait for spooled outcomes to be replayed and for nothing to be pending.
    const client = new pg.Client(suite.server.url);
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
