import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIError } from 'openai';
import OpenAI from 'openai';
import pg from 'pg';
import type { ChatCompletionChunk } from 'openai/resources/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { unique } from '../helpers/each-database.js';
import { useAskbaseSuite } from '../helpers/suite.js';

interface Row {
  id: number;
  parent_id?: number | null;
  conversation_id?: number | null;
  kind: string;
  question: string | null;
  answer: string | null;
  status: string;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
}

/** These tests stop and start a PostgreSQL server of their own; the shared one stays up. */
describe('POST /v1/chat/completions through database outages', () => {
  const suite = useAskbaseSuite({
    database: 'postgres server',
    env: {
      DB_CONNECT_BACKOFF_MAX_MS: '200',
      SPOOL_REPLAY_INTERVAL_MS: '100',
      ANSWER_STORE_ATTEMPTS: '2',
      ANSWER_STORE_BACKOFF_MS: '50',
    },
  });
  afterEach(async () => {
    // Each test finds the database up and askbase ready again, whatever the last one did.
    await suite.server.start();
    await expect
      .poll(async () => (await fetch(`${suite.askbase.url}/health/ready`)).status, {
        timeout: 15_000,
      })
      .toBe(200);
  });
  const clientOf = (url: string) =>
    new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
  const spool = () =>
    readFile(join(suite.askbase.config.dataDir, 'spool', 'outcomes.jsonl'), 'utf8').catch(() => '');
  /** Waits until the exchange asking `question` is stored as pending. */
  const pendingRowStored = (question: string) =>
    expect
      .poll(
        async () => {
          const response = await fetch(
            `${suite.askbase.url}/qas?kind=chat&status=pending&q=${encodeURIComponent(`"${question}"`)}`,
          );
          return response.status === 200 ? ((await response.json()) as Row[]).length : 0;
        },
        { timeout: 15_000 },
      )
      .toBe(1);
  /** The row once the spool was replayed into the database that came back. */
  const storedRow = async (id: number) => {
    let found: Row | undefined;
    await expect
      .poll(
        async () => {
          const response = await fetch(`${suite.askbase.url}/qa/${id}`);
          found = response.status === 200 ? ((await response.json()) as Row) : undefined;
          return found?.status;
        },
        { timeout: 15_000 },
      )
      .toBe('answered');
    return found!;
  };

  it('when the database stops while the LLM streams, then the client gets the whole stream, and the answer is spooled and then stored', async () => {
    const answer = 'A streamed answer already paid for, every word of it.';
    suite.fake.setBehavior({ answer: () => answer });
    suite.fake.hold();

    const pending = clientOf(suite.askbase.url)
      .chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: 'Will my streamed answer survive?' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    await suite.fake.waitForInFlight(1);
    await pendingRowStored('Will my streamed answer survive?');
    await suite.server.stop();
    suite.fake.release();
    const { data: stream, response } = await pending;
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(answer);
    expect(chunks.at(-1)?.usage).toBeTruthy();
    const id = Number(response.headers.get('x-askbase-id'));
    expect(id).toBeGreaterThan(0);
    // Spooled once its stores fail (maybe after the stream ended): wait for it, not for a time.
    await expect.poll(() => spool(), { timeout: 15_000 }).toContain(answer);

    await suite.server.start();
    const stored = await storedRow(id);
    expect(stored).toMatchObject({ kind: 'chat', answer, status: 'answered' });
    expect(stored.usage).not.toBeNull();
    await expect.poll(() => spool(), { timeout: 15_000 }).toBe('');
  });

  it('when the database stops while the LLM answers a plain completion, then the client gets it and it is stored later', async () => {
    suite.fake.setBehavior({ answer: () => 'A plain answer already paid for.' });
    suite.fake.hold();

    const pending = clientOf(suite.askbase.url)
      .chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: 'Will my answer survive?' }],
      })
      .withResponse();
    await suite.fake.waitForInFlight(1);
    // The LLM is asked while the row is stored: the database stops once it holds the row.
    await pendingRowStored('Will my answer survive?');
    await suite.server.stop();
    suite.fake.release();
    const { data, response } = await pending;

    expect(data.choices[0]?.message.content).toBe('A plain answer already paid for.');
    await suite.server.start();
    const stored = await storedRow(Number(response.headers.get('x-askbase-id')));
    expect(stored).toMatchObject({ kind: 'chat', answer: 'A plain answer already paid for.' });
  });

  it('when the database is down as chat requests arrive, then 503 in OpenAI’s shape, and once askbase knows, nothing is spent on the LLM', async () => {
    await suite.server.stop();
    const ask = () =>
      clientOf(suite.askbase.url)
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: 'Anyone there?' }],
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );

    // The first request may have reached the LLM (asked while its row was being stored); its
    // call is cancelled when the row cannot be stored. The next ones wait for the database.
    const first = await ask();
    await expect.poll(() => suite.fake.inFlight(), { timeout: 15_000 }).toBe(0);
    const asked = suite.fake.requests.length;
    const second = await ask();

    for (const caught of [first, second]) {
      expect(caught).toBeInstanceOf(OpenAI.InternalServerError);
      expect((caught as APIError).status).toBe(503);
      expect((caught as APIError).code).toBe('database_unavailable');
    }
    expect(suite.fake.requests).toHaveLength(asked);
  });

  it('when storing the row is slow, then the LLM is already being asked meanwhile, and the answer is stored once the row is', async () => {
    // askbase has stored an exchange since any outage: it asks the LLM while storing again.
    await clientOf(suite.askbase.url).chat.completions.create({
      model: 'gpt-5-mini',
      messages: [{ role: 'user', content: 'Is the database there?' }],
    });
    // A lock of the test's own holds every insert: the row cannot be stored until it ends.
    const locker = new pg.Client({ connectionString: suite.server.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table question_answers in share mode');
      suite.fake.setBehavior({ answer: () => 'Asked while the row was being stored.' });

      const pending = clientOf(suite.askbase.url)
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: 'Am I asked before my row is stored?' }],
        })
        .withResponse();
      await suite.fake.waitForRequests(2);
      await locker.query('commit');
      const { data, response } = await pending;

      expect(data.choices[0]?.message.content).toBe('Asked while the row was being stored.');
      const stored = await storedRow(Number(response.headers.get('x-askbase-id')));
      expect(stored).toMatchObject({ kind: 'chat', status: 'answered' });
    } finally {
      await locker.end();
    }
  });

  it('when a client sends its next turn before the last answer is recorded, then the turn still joins that conversation', async () => {
    const locker = new pg.Client({ connectionString: suite.server.url });
    await locker.connect();
    const watcher = new pg.Client({ connectionString: suite.server.url });
    await watcher.connect();
    /** Whether askbase has read a turn by its id: what a next turn waiting for it does. */
    const lookedUpById = async () =>
      (
        await watcher.query(
          `select 1 from pg_stat_activity
            where pid <> pg_backend_pid()
              and query like '%"request_digest" from "question_answers" where "question_answers"."id" = $1%'`,
        )
      ).rows.length > 0;
    try {
      suite.fake.setBehavior({ answer: () => 'The first answer.' });
      suite.fake.hold();
      const question = unique('first turn ');
      const first = clientOf(suite.askbase.url)
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: question }],
        })
        .withResponse();
      await suite.fake.waitForInFlight(1);
      await pendingRowStored(question);
      // From here the answer cannot be recorded until the lock ends; the client gets it anyway.
      await locker.query('begin');
      await locker.query('lock table question_answers in share mode');
      suite.fake.release();
      const { data, response } = await first;
      const firstId = Number(response.headers.get('x-askbase-id'));

      const second = clientOf(suite.askbase.url)
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [
            { role: 'user', content: question },
            { role: 'assistant', content: data.choices[0]?.message.content ?? '' },
            { role: 'user', content: 'And the second?' },
          ],
        })
        .withResponse();
      // The next turn finds the first one pending, and looks at it until it is answered.
      await expect.poll(() => lookedUpById(), { timeout: 15_000 }).toBe(true);
      await locker.query('commit');
      const secondId = Number((await second).response.headers.get('x-askbase-id'));

      const turn = await storedRow(secondId);
      expect(turn).toMatchObject({ parent_id: firstId, conversation_id: firstId });
    } finally {
      await locker.end();
      await watcher.end();
    }
  });
});
