import { describe, expect, it } from 'vitest';
import type { Fault } from './fake-openai/fake-openai.js';
import { ask } from './helpers/askbase.js';
import { unique } from './helpers/each-database.js';
import { useAskbaseSuite } from './helpers/suite.js';
import { waitFor } from './helpers/wait-for.js';

/**
 * askbase promises that no stored text (a question, an answer, a spooled record) reaches a log
 * line, at any level. Each test sends text with a marker of its own through a failure path,
 * with the most talkative log level, and searches every line for it.
 */

/** Upstream failures; the fake quotes the question in each error (and in a broken body). */
const LLM_FAULTS: Fault[] = [
  'bad_request',
  'server_error',
  'rate_limit',
  'unauthorized',
  'malformed',
  'cut_stream',
];

/** The ways a question reaches the LLM. */
const ENTRY_POINTS: Record<string, (url: string, text: string) => Promise<Response>> = {
  'POST /ask': (url, text) => ask(url, { question: text }),
  'POST /ask, streamed': (url, text) =>
    ask(url, { question: text }, { accept: 'text/event-stream' }),
  'POST /v1/chat/completions': (url, text) => post(url, '/v1/chat/completions', chat(text)),
  'POST /v1/chat/completions, streamed': (url, text) =>
    post(url, '/v1/chat/completions', { ...chat(text), stream: true }),
  'POST /v1/responses': (url, text) =>
    post(url, '/v1/responses', { model: 'gpt-5-mini', input: text }),
  'POST /v1/responses, streamed': (url, text) =>
    post(url, '/v1/responses', { model: 'gpt-5-mini', input: text, stream: true }),
};

const chat = (text: string) => ({
  model: 'gpt-5-mini',
  messages: [{ role: 'user', content: text }],
});
const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('no stored text in any log line', () => {
  const suite = useAskbaseSuite();
  // The suite's askbase is silent: each test starts one that logs everything, on the same database.
  const logging = (env: Record<string, string> = {}) =>
    suite.start({ OPENAI_MAX_RETRIES: '0', LOG_LEVEL: 'trace', ...env }, { captureLogs: true });

  it.each(Object.keys(ENTRY_POINTS))(
    'when the LLM fails in every way on %s, quoting the question, then no log line has it',
    async (entry) => {
      const askbase = await logging();
      const markers: string[] = [];
      for (const fault of LLM_FAULTS) {
        const marker = unique('LEAKMARK');
        markers.push(marker);
        suite.fake.setBehavior({ fault, echo: true });
        const response = await ENTRY_POINTS[entry]?.(askbase.url, `What about ${marker}?`);
        await response?.text();
      }
      // The failures were logged (the check looks at real lines), and none says a marker.
      expect(askbase.logs.some((line) => line.msg === 'LLM call failed')).toBe(true);
      const logged = JSON.stringify(askbase.logs);
      for (const marker of markers) expect(logged).not.toContain(marker);
    },
  );

  it('when the database refuses an answer, quoting it, then neither the recorder, the spool nor its replay logs it', async () => {
    const askbase = await logging({
      ANSWER_STORE_ATTEMPTS: '1',
      ANSWER_STORE_BACKOFF_MS: '1',
      SPOOL_REPLAY_INTERVAL_MS: '100',
    });
    const marker = unique('LEAKMARK');
    try {
      // Every update fails with the row's text in the message itself and in its detail.
      await suite.db.query(`
        create or replace function refuse_update() returns trigger language plpgsql as $$
          begin raise exception 'refused %', new.answer using detail = 'row: ' || new.question; end $$;
        create trigger refuse_update before update on question_answers
          for each row execute function refuse_update();`);
      suite.fake.setBehavior({ answer: (question) => `The answer to ${question}` });
      const response = await ask(askbase.url, { question: `Keep ${marker} safe` });
      expect(response.status).toBe(200);
      // Spooled, then replayed and refused again.
      await waitFor(() => askbase.logs.some((line) => line.msg === 'spooled outcome failed'), {
        what: 'the spool to try to replay the answer',
      });
      expect(askbase.logs.some((line) => line.msg === 'storing an outcome failed')).toBe(true);
      expect(JSON.stringify(askbase.logs)).not.toContain(marker);
    } finally {
      await suite.db.query('drop trigger if exists refuse_update on question_answers');
    }
  });

  it('when a background job fails on a row, quoting it, then its log line does not have it', async () => {
    const askbase = await logging({ RETENTION_DAYS: '1' });
    const marker = unique('LEAKMARK');
    try {
      const response = await ask(askbase.url, { question: `Old ${marker}` });
      const { id } = (await response.json()) as { id: number };
      await suite.db.query(
        `update question_answers set created_at = now() - interval '3 days' where id = $1`,
        [id],
      );
      await suite.db.query(`
        create or replace function refuse_delete() returns trigger language plpgsql as $$
          begin raise exception 'kept %', old.question; end $$;
        create trigger refuse_delete before delete on question_answers
          for each row execute function refuse_delete();`);
      await askbase.housekeep();
      expect(askbase.logs.some((line) => line.msg === 'retention deferred')).toBe(true);
      expect(JSON.stringify(askbase.logs)).not.toContain(marker);
    } finally {
      await suite.db.query('drop trigger if exists refuse_delete on question_answers');
    }
  });

  it('when an export is cut short by its client, then its log line does not have the rows', async () => {
    const askbase = await logging();
    const marker = unique('LEAKMARK');
    // Enough rows (20 MB) that the export is still being written when the client leaves.
    await suite.db.query(
      `insert into question_answers (question, answer, status, answered_at, text_stored)
       select $1 || ' ' || n, repeat('an answer ', 100), 'answered', now(), true
         from generate_series(1, 20000) as n`,
      [marker],
    );
    const controller = new AbortController();
    const response = await fetch(`${askbase.url}/qas/export?format=ndjson&q=${marker}`, {
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read(); // the first rows arrived: the export is under way
    controller.abort();
    await waitFor(
      () => askbase.logs.some((line) => line.msg?.toString().startsWith('export ended early')),
      {
        what: 'askbase to notice the client went away',
      },
    );
    expect(JSON.stringify(askbase.logs)).not.toContain(marker);
  });
});
