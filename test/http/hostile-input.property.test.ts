import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useAskbaseSuite } from '../helpers/suite.js';

const paths = [
  '/ask',
  '/qa/1',
  '/qa/0',
  '/qa/abc',
  '/qa/99999999999999999999',
  '/qa/1/retry',
  '/qas',
  '/qas/',
  '/qas?limit=abc',
  '/qas?limit=5&cursor=%FF',
  '/qas?cursor=eyJhZnRlciI6LTF9',
  '/is_up',
  '/health/ready',
  '/nowhere',
];
const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
];
const headerValue = fc.string({
  unit: fc.constantFrom(...' !"#$%&()*+,-./09:;<=>?@AZ[]^_`az{|}~'),
  maxLength: 300,
});

const body = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record({ question: fc.jsonValue() }, { requiredKeys: [] })
    .map((value) => JSON.stringify(value)),
  fc
    .string({ maxLength: 200 })
    .map((question) => JSON.stringify({ question, extra: [1, { a: null }] })),
  fc.string({ maxLength: 200 }),
  fc.constant('{"question": "\\u0000"}'),
  fc.constant('{"question": "\\ud800"}'),
  fc.constant('{"__proto__": {"question": "x"}}'),
  fc.constant('{"question": "' + 'x'.repeat(70_000) + '"}'),
);

const anyRequest = fc.record({
  method: fc.constantFrom(...methods),
  path: fc.constantFrom(...paths),
  contentType: fc.constantFrom(...contentTypes),
  body,
  idempotencyKey: fc.option(headerValue, { nil: undefined }),
  requestId: fc.option(headerValue, { nil: undefined }),
});

// Most of the attack surface is POST /ask with a JSON content type, so half the runs go there.
const askRequest = fc.record({
  method: fc.constant('POST'),
  path: fc.constantFrom('/ask', '/qa/1/retry'),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
  body,
  idempotencyKey: fc.option(headerValue, { nil: undefined }),
  requestId: fc.option(headerValue, { nil: undefined }),
});

const request = fc.oneof(anyRequest, askRequest);

describe('hostile input on every route', () => {
  const suite = useAskbaseSuite({ env: { MAX_QUESTION_LENGTH: '100' } });

  const countRows = async () =>
    Number(
      (await suite.db.query<{ count: string }>('select count(*) from question_answers'))[0]?.count,
    );

  it('when random methods, bodies, content types and headers arrive, then no response is a 5xx, every error is JSON, and rejected input stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        request,
        async ({ method, path, contentType, body, idempotencyKey, requestId }) => {
          const headers: Record<string, string> = {};
          if (contentType) headers['content-type'] = contentType;
          if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
          if (requestId !== undefined) headers['x-request-id'] = requestId;
          const hasBody = !['GET', 'HEAD'].includes(method);
          const before = await countRows();

          const response = await fetch(`${suite.askbase.url}${path}`, {
            method,
            headers,
            body: hasBody ? body : undefined,
          });
          const text = await response.text();

          expect(response.status, `${method} ${path} -> ${text}`).toBeLessThan(500);
          if (response.status >= 400 && method !== 'HEAD') {
            expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
            expect(JSON.parse(text)).toMatchObject({
              error: { code: expect.any(String), message: expect.any(String) },
            });
          }
          if (response.status >= 400) expect(await countRows()).toBe(before);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);
});
