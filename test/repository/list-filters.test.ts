import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { QuestionRepository } from '../../src/repository/question-repository.js';
import { ask } from '../helpers/askbase.js';
import { BOTH_DATABASES } from '../helpers/each-database.js';
import { useAskbaseSuite } from '../helpers/suite.js';

/** The questions every test below reads, oldest first; the LLM answers with `answer`. */
const ASKED = [
  {
    question: 'What is the capital of France?',
    answer: 'Paris is the capital of France.',
    createdAt: '2026-01-01T10:00:00.000Z',
  },
  {
    question: 'How do volcanoes erupt?',
    answer: 'Pressure from rising magma.',
    createdAt: '2026-01-02T10:00:00.000Z',
  },
  {
    question: 'Which river flows through Paris?',
    answer: 'The Seine.',
    createdAt: '2026-01-03T10:00:00.000Z',
  },
  {
    question: 'Tell me about the capitals of Europe',
    answer: undefined, // the LLM fails: stored as failed
    createdAt: '2026-01-04T10:00:00.000Z',
  },
  {
    question: 'Is the capital moving?',
    answer: null, // still waiting for the LLM: pending
    createdAt: '2026-01-05T10:00:00.000Z',
  },
] as const;

describe.each(BOTH_DATABASES)('GET /qas search and filters on $driver', ({ database }) => {
  const suite = useAskbaseSuite({ database });
  /** ASKED[i]'s id. */
  const ids: number[] = [];

  beforeAll(async () => {
    const repository = new QuestionRepository(suite.askbase.database);
    for (const { question, answer, createdAt } of ASKED) {
      let id: number;
      if (answer === null) {
        id = (await repository.createPending(question, { deadlineMs: 60_000 })).questionAnswer.id;
      } else {
        suite.fake.setBehavior(
          answer === undefined ? { fault: 'server_error' } : { answer: () => answer },
        );
        // A failed ask answers with an error body that carries the stored question's id.
        const body = (await (await ask(suite.askbase.url, { question })).json()) as {
          id?: number;
          error?: { id: number };
        };
        id = body.id ?? body.error?.id ?? 0;
      }
      await suite.askbase.database.db.execute(
        sql`update question_answers set created_at = ${createdAt}::timestamptz where id = ${id}`,
      );
      ids.push(id);
    }
  });

  async function list(query: string) {
    const response = await fetch(`${suite.askbase.url}/qas?${query}`);
    const body: unknown = await response.json();
    return { status: response.status, body, link: response.headers.get('link') };
  }
  /** The ASKED indexes of the rows a listing returned, in its order. */
  const asked = (body: unknown) => (body as { id: number }[]).map((row) => ids.indexOf(row.id));

  it('when q names a word, then questions and answers containing any form of it come back, newest first', async () => {
    expect(asked((await list('q=capital')).body)).toEqual([4, 3, 0]);
    expect(asked((await list('q=Seine')).body)).toEqual([2]);
  });

  it('when q uses web search syntax, then phrases, or and -word work as on a search engine', async () => {
    expect(asked((await list(`q=${encodeURIComponent('"capital of France"')}`)).body)).toEqual([0]);
    expect(asked((await list(`q=${encodeURIComponent('capital -france')}`)).body)).toEqual([4, 3]);
    expect(asked((await list(`q=${encodeURIComponent('volcano or seine')}`)).body)).toEqual([2, 1]);
  });

  it('when q has only words too common to index, then nothing matches and nothing fails', async () => {
    expect(await list('q=the')).toMatchObject({ status: 200, body: [] });
  });

  it('when status is given, then only questions in that state come back', async () => {
    expect(asked((await list('status=failed')).body)).toEqual([3]);
    expect(asked((await list('status=pending')).body)).toEqual([4]);
    expect(asked((await list('status=answered')).body)).toEqual([2, 1, 0]);
  });

  it('when since and until are given, then since is inclusive and until exclusive', async () => {
    const { body } = await list('since=2026-01-02T10:00:00Z&until=2026-01-04T10:00:00Z');

    expect(asked(body)).toEqual([2, 1]);
  });

  it('when since and until have microseconds, then rows are compared to the microsecond', async () => {
    const { body } = await list(
      'since=2026-01-02T10:00:00.000001Z&until=2026-01-03T10:00:00.000001Z',
    );

    // ASKED[1] is 1 µs before since; ASKED[2] is 1 µs before until.
    expect(asked(body)).toEqual([2]);
  });

  it('when since carries an offset, then it names the same instant as in UTC', async () => {
    const { body } = await list(`since=${encodeURIComponent('2026-01-04T11:00:00+01:00')}`);

    expect(asked(body)).toEqual([4, 3]);
  });

  it('when filters page, then every Link header carries them with the cursor, to the last page', async () => {
    async function walk(query: URLSearchParams) {
      const seen: number[] = [];
      let next: string | undefined = `/qas?${query.toString()}`;
      while (next !== undefined) {
        const response = await fetch(new URL(next, suite.askbase.url));
        seen.push(...asked(await response.json()));
        next = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1];
        const carried = new URL(next ?? '/', suite.askbase.url).searchParams;
        if (next !== undefined)
          for (const [name, value] of query) expect(carried.get(name)).toBe(value);
      }
      return seen;
    }

    const searched = new URLSearchParams({
      q: 'capital -moving',
      since: '2025-12-31T00:00:00+00:00',
      until: '2026-01-05T00:00:00Z',
      limit: '1',
    });
    expect(await walk(searched)).toEqual([3, 0]);
    expect(await walk(new URLSearchParams({ status: 'answered', limit: '2' }))).toEqual([2, 1, 0]);
  });

  it.each([
    ['status=done', 'status'],
    ['since=yesterday', 'since'],
    ['since=2026-01-01', 'since'],
    ['since=2026-02-30T00:00:00Z', 'since'],
    ['until=2026-01-01T10:00:00', 'until'],
    ['since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    // Valid RFC 3339, but the offset carries them out of years 1 to 9999.
    ['since=0001-01-01T00:00:00%2B23:59', 'since'],
    ['until=9999-12-31T23:59:59-23:59', 'until'],
    // Finer than the microseconds a timestamp holds: it could not be honoured exactly.
    ['since=2026-01-02T10:00:00.0000001Z', 'since'],
    ['since=2026-01-02T10:00:00.000001Z&until=2026-01-02T10:00:00.000001Z', 'until'],
    ['q=', 'q'],
    [`q=${'x'.repeat(1001)}`, 'q'],
    ['q=a%00b', 'q'],
  ])('when the query is %s, then 400 invalid_request names %s', async (query, param) => {
    const { status, body } = await list(query);

    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'invalid_request', param } });
  });

  it('when an answer has more words than a full-text index can hold, then it is stored whole and its beginning is searchable', async () => {
    // ~1.7 MB of distinct words: a tsvector of all of them would exceed PostgreSQL's 1 MB.
    const huge = Array.from({ length: 300_000 }, (_, i) => `w${i.toString(36)}`).join(' ');
    suite.fake.setBehavior({ answer: () => `zeppelin ${huge}` });

    const response = await ask(suite.askbase.url, { question: 'Say a great deal' });

    const body = (await response.json()) as { id: number; answer: string };
    try {
      expect(response.status).toBe(200);
      expect(body.answer).toBe(`zeppelin ${huge}`);
      expect((await list('q=zeppelin')).body).toEqual([body]);
    } finally {
      await fetch(`${suite.askbase.url}/qa/${body.id}`, { method: 'DELETE' });
    }
  });
});
