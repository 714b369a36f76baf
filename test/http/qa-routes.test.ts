import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { type QaJson, allowed, expectError, expectOk } from '../helpers/http.js';

describe('reading, listing and deleting questions', () => {
  const suite = useAskbaseSuite();

  /** Asks `count` questions one after another and returns them in the order asked. */
  async function askMany(base: string, count: number, prefix: string): Promise<QaJson[]> {
    const asked: QaJson[] = [];
    for (let i = 0; i < count; i += 1) {
      asked.push(await expectOk<QaJson>(await ask(base, { question: `${prefix} #${i}?` })));
    }
    return asked;
  }

  /** Follows `Link: <…>; rel="next"` from `path` to the end; returns every page. */
  async function walkPages(base: string, path: string) {
    const pages: { items: QaJson[]; link: string | null }[] = [];
    let next: string | undefined = path;
    while (next !== undefined) {
      expect(pages.length, 'too many pages').toBeLessThan(100);
      const response = await fetch(new URL(next, base));
      const link = response.headers.get('link');
      pages.push({ items: await expectOk<QaJson[]>(response), link });
      next = link === null ? undefined : /^<([^>]+)>;\s*rel="next"$/.exec(link)?.[1];
      if (link !== null) expect(next, `Link header: ${link}`).toBeDefined();
    }
    return pages;
  }

  describe('GET /qa/:id', () => {
    it('when the question exists, then 200 and the stored QuestionAnswer', async () => {
      suite.fake.setBehavior({ answer: () => 'Blue.' });
      const posted = await expectOk<QaJson>(
        await ask(suite.askbase.url, { question: 'Sky colour?' }),
      );

      const got = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${posted.id}`));

      expect(got).toEqual(posted);
      expect(got).toMatchObject({ question: 'Sky colour?', answer: 'Blue.', status: 'answered' });
    });

    it('when no question has the id, then 404 not_found', async () => {
      const [row] = await suite.db.query<{ next: string }>(
        'select coalesce(max(id), 0) + 1000 as next from question_answers',
      );

      await expectError(await fetch(`${suite.askbase.url}/qa/${row?.next}`), 404, 'not_found');
    });

    it.each([
      ['not a number', 'abc'],
      ['zero', '0'],
      ['negative', '-1'],
      ['a fraction', '1.5'],
      ['above 2^53', '9007199254740993'],
      ['far above the bigint range', '99999999999999999999999'],
      ['a number with trailing text', '12abc'],
    ])('when the id is %s, then 400 invalid_request', async (_, id) => {
      await expectError(await fetch(`${suite.askbase.url}/qa/${id}`), 400, 'invalid_request');
    });
  });

  describe('DELETE /qa/:id', () => {
    it('when the question exists, then 200 {id, deleted: true}, and it is gone for GET and a second DELETE', async () => {
      const posted = await expectOk<QaJson>(
        await ask(suite.askbase.url, { question: 'Forget me?' }),
      );
      const url = `${suite.askbase.url}/qa/${posted.id}`;

      const deleted = await expectOk<unknown>(await fetch(url, { method: 'DELETE' }));

      expect(deleted).toEqual({ id: posted.id, deleted: true });
      await expectError(await fetch(url), 404, 'not_found');
      await expectError(await fetch(url, { method: 'DELETE' }), 404, 'not_found');
      expect(
        await suite.db.query('select id from question_answers where id = $1', [posted.id]),
      ).toEqual([]);
    });

    it('when the question is deleted, then other questions stay', async () => {
      const [keep, drop] = await askMany(suite.askbase.url, 2, 'Delete one of two');

      await expectOk(await fetch(`${suite.askbase.url}/qa/${drop!.id}`, { method: 'DELETE' }));

      await expectOk(await fetch(`${suite.askbase.url}/qa/${keep!.id}`));
    });

    it.each(['abc', '0', '-1', '1.5'])(
      'when the id is %s, then 400 invalid_request',
      async (id) => {
        await expectError(
          await fetch(`${suite.askbase.url}/qa/${id}`, { method: 'DELETE' }),
          400,
          'invalid_request',
        );
      },
    );
  });

  describe('GET /qas', () => {
    it.each(['/qas', '/qas/'])(
      'when %s is read, then 200 and a JSON array of every question, newest first',
      async (path) => {
        const { askbase: fresh } = await suite.startAlone();
        const asked = await askMany(fresh.url, 5, 'List me');

        const response = await fetch(`${fresh.url}${path}`);

        const listed = await expectOk<QaJson[]>(response);
        expect(Array.isArray(listed)).toBe(true);
        expect(listed).toEqual([...asked].reverse());
        expect(response.headers.get('link')).toBeNull();
      },
    );

    it('when there are no questions, then 200 and an empty array without a Link header', async () => {
      const { askbase: fresh } = await suite.startAlone();

      const response = await fetch(`${fresh.url}/qas`);

      expect(await expectOk<unknown>(response)).toEqual([]);
      expect(response.headers.get('link')).toBeNull();
    });

    it('when following Link rel="next" (25 rows, limit 7), then every row comes exactly once, newest first, and the last page has no Link', async () => {
      const { askbase: fresh } = await suite.startAlone();
      const asked = await askMany(fresh.url, 25, 'Page me');

      const pages = await walkPages(fresh.url, '/qas?limit=7');

      expect(pages.map((page) => page.items.length)).toEqual([7, 7, 7, 4]);
      expect(pages.slice(0, -1).every((page) => page.link !== null)).toBe(true);
      expect(pages.at(-1)?.link).toBeNull();
      for (const page of pages.slice(0, -1)) expect(page.link).toMatch(/limit=7/);
      const listed = pages.flatMap((page) => page.items);
      expect(listed.map((qa) => qa.id)).toEqual(asked.map((qa) => qa.id).reverse());
      expect(listed).toEqual([...asked].reverse());
      const created = listed.map((qa) => Date.parse(qa.created_at));
      expect(created).toEqual([...created].sort((a, b) => b - a));
    });

    it('when the rows fill the last page exactly, then there is no Link to an empty page', async () => {
      const { askbase: fresh } = await suite.startAlone();
      const asked = await askMany(fresh.url, 6, 'Exact fit');

      const pages = await walkPages(fresh.url, '/qas?limit=3');

      expect(pages.map((page) => page.items.length)).toEqual([3, 3]);
      expect(pages.flatMap((page) => page.items.map((qa) => qa.id))).toEqual(
        asked.map((qa) => qa.id).reverse(),
      );
    });

    it('when rows are added while paging, then the walk still returns every earlier row exactly once', async () => {
      const { askbase: fresh } = await suite.startAlone();
      const asked = await askMany(fresh.url, 6, 'Stable');
      const first = await fetch(`${fresh.url}/qas?limit=4`);
      const firstItems = await expectOk<QaJson[]>(first);
      const link = /^<([^>]+)>/.exec(first.headers.get('link') ?? '')?.[1];
      expect(link).toBeDefined();

      await askMany(fresh.url, 3, 'Newcomer');
      const rest = await walkPages(fresh.url, link!);

      const ids = [...firstItems, ...rest.flatMap((page) => page.items)].map((qa) => qa.id);
      expect(ids).toEqual(asked.map((qa) => qa.id).reverse());
    });

    it('when rows hold large answers, then a page stops near 1 MiB of text and the Link header leads to the rest, each row once', async () => {
      const { askbase: fresh, db: freshDb } = await suite.startAlone();
      await freshDb.query(
        `insert into question_answers (question, status, answer, answered_at)
         select 'Large #' || n, 'answered', repeat('x', 400000), now() from generate_series(1, 7) as n`,
      );

      const pages = await walkPages(fresh.url, '/qas?limit=100');

      // 400 kB each: two fit under 1 MiB, a third would not.
      expect(pages.map((page) => page.items.length)).toEqual([2, 2, 2, 1]);
      const ids = pages.flatMap((page) => page.items.map((qa) => qa.id));
      expect(new Set(ids).size).toBe(7);
      expect(ids).toEqual([...ids].sort((x, y) => y - x));
    });

    it('when one row alone is larger than the page bound, then it still comes, alone on its page', async () => {
      const { askbase: fresh, db: freshDb } = await suite.startAlone();
      await freshDb.query(
        `insert into question_answers (question, status, answer, answered_at)
         values ('Small', 'answered', 'tiny', now()),
                ('Huge', 'answered', repeat('y', 2000000), now())`,
      );

      const pages = await walkPages(fresh.url, '/qas');

      expect(pages.map((page) => page.items.map((qa) => qa.question))).toEqual([
        ['Huge'],
        ['Small'],
      ]);
    });

    it('when limit is omitted, then at most 100 rows come back with a Link for the rest', async () => {
      const { askbase: fresh, db: freshDb } = await suite.startAlone();
      await freshDb.query(
        `insert into question_answers (question) select 'Bulk #' || n from generate_series(1, 101) as n`,
      );

      const response = await fetch(`${fresh.url}/qas`);

      expect(await expectOk<QaJson[]>(response)).toHaveLength(100);
      expect(response.headers.get('link')).toMatch(/rel="next"/);
    });

    it.each([
      ['0', 'limit=0'],
      ['1001', 'limit=1001'],
      ['not a number', 'limit=x'],
      ['negative', 'limit=-1'],
      ['a fraction', 'limit=1.5'],
      ['empty', 'limit='],
    ])('when limit is %s, then 400 invalid_request', async (_, query) => {
      await expectError(await fetch(`${suite.askbase.url}/qas?${query}`), 400, 'invalid_request');
    });

    it.each([1, 1000])('when limit is %i, then 200', async (limit) => {
      await expectOk(await fetch(`${suite.askbase.url}/qas?limit=${limit}`));
    });

    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    it.each([
      ['garbage', 'garbage'],
      ['not base64', '!!!***'],
      ['empty', ''],
      ['base64 of a non-object', encode(5)],
      ['a negative position', encode({ after: -1 })],
      ['a zero position', encode({ after: 0 })],
      ['a string position', encode({ after: '5' })],
      ['a fractional position', encode({ after: 1.5 })],
      ['a position above 2^53', encode({ after: 2 ** 60 })],
      ['overly long', 'a'.repeat(500)],
    ])('when cursor is %s, then 400 invalid_request', async (_, cursor) => {
      await expectError(
        await fetch(`${suite.askbase.url}/qas?cursor=${encodeURIComponent(cursor)}`),
        400,
        'invalid_request',
      );
    });
  });

  describe('methods and paths', () => {
    it.each([
      ['PUT', '/qa/1', ['GET', 'DELETE']],
      ['PATCH', '/qa/1', ['GET', 'DELETE']],
      ['POST', '/qa/1', ['GET', 'DELETE']],
      ['POST', '/qas', ['GET']],
      ['DELETE', '/qas', ['GET']],
      ['PUT', '/qas', ['GET']],
      ['POST', '/is_up', ['GET']],
      ['DELETE', '/is_up', ['GET']],
      ['POST', '/health/ready', ['GET']],
    ])(
      'when %s %s, then 405 method_not_allowed with an Allow header listing %j',
      async (method, path, methods) => {
        const response = await fetch(`${suite.askbase.url}${path}`, { method });

        await expectError(response, 405, 'method_not_allowed');
        const allow = allowed(response);
        for (const expected of methods) expect(allow).toContain(expected);
        expect(allow).not.toContain(method);
      },
    );

    it.each([
      ['GET', '/nope'],
      ['POST', '/questions'],
      ['GET', '/qa'],
      ['GET', '/qa/1/extra'],
      ['DELETE', '/qas/1'],
    ])('when %s %s (an unknown path), then 404 not_found as JSON', async (method, path) => {
      await expectError(await fetch(`${suite.askbase.url}${path}`, { method }), 404, 'not_found');
    });

    it('when GET /is_up, then 200 {"status": "ok"}', async () => {
      expect(await expectOk<unknown>(await fetch(`${suite.askbase.url}/is_up`))).toEqual({
        status: 'ok',
      });
    });

    it('when GET /health/ready with the database up and migrated, then 200', async () => {
      const response = await fetch(`${suite.askbase.url}/health/ready`);

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    });

    it('when the database is gone, then GET /health/ready is 503 while /is_up stays 200', async () => {
      const { askbase: fresh, db: freshDb } = await suite.startAlone();
      await expectOk(await fetch(`${fresh.url}/health/ready`));

      await freshDb.drop();

      const ready = await fetch(`${fresh.url}/health/ready`);
      // The contract fixes the status, not the code.
      await expectError(ready, 503, expect.any(String) as string);
      expect(await expectOk<unknown>(await fetch(`${fresh.url}/is_up`))).toEqual({ status: 'ok' });
    });
  });
});
