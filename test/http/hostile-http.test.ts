import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RawResponse, rawRequest } from '../helpers/raw-http.js';
import { useAskbaseSuite } from '../helpers/suite.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** The contract's error shape, on a response read off the wire. */
function expectErrorShape(response: RawResponse | undefined, status: number, code?: string) {
  expect(response, 'a response').toBeDefined();
  expect(response!.status, response!.body).toBe(status);
  expect(response!.headers['content-type']).toBe(JSON_TYPE);
  const body = JSON.parse(response!.body) as { error: { code: string; message: string } };
  expect(body.error).toMatchObject({
    code: code ?? expect.any(String),
    message: expect.any(String),
  });
  return body.error;
}

describe('requests the framework or Node rejects still get the contract error shape', () => {
  const suite = useAskbaseSuite();
  const send = (request: string | Buffer) => rawRequest(suite.askbase.url, request);
  const countRows = async () =>
    Number(
      (await suite.db.query<{ n: string }>('select count(*) as n from question_answers'))[0]?.n,
    );

  it('when an id is longer than 100 characters, then 400 invalid_request as for any invalid id', async () => {
    const response = await fetch(`${suite.askbase.url}/qa/${'1'.repeat(101)}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(JSON_TYPE);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('when an HTTP/1.1 request has no Host header, then 400 invalid_request', async () => {
    expectErrorShape(
      await send('GET /qas HTTP/1.1\r\nConnection: close\r\n\r\n'),
      400,
      'invalid_request',
    );
  });

  it('when the path has bad percent-encoding, then 400 invalid_request', async () => {
    const error = expectErrorShape(await send('GET /qa/%FF HTTP/1.1\r\nHost: x\r\n\r\n'), 400);
    expect(error.code).toBe('invalid_request');
  });

  it.each([
    ['a NUL in the path', 'GET /qa/\u00001 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a NUL in a header', 'GET /qas HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0000b\r\n\r\n', 400],
    ['an unknown method', 'FROB /qas HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a request line that is not HTTP', 'hello there\r\n\r\n', 400],
    [
      'headers over 16 KB',
      `GET /qas HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`,
      431,
    ],
    [
      'both Content-Length and Transfer-Encoding',
      'POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\nTransfer-Encoding: chunked\r\n\r\n{"question":"x"}',
      400,
    ],
  ])(
    'when Node’s HTTP parser sees %s, then the contract error shape',
    async (_, request, status) => {
      expectErrorShape(await send(request), status);
    },
  );

  it('when a request is answered and bytes that are not HTTP follow on the same connection, then that one response is all that is sent', async () => {
    // The request is answered (400, bad percent-encoding) before Node's parser meets the
    // stray byte after it; a second response on the same connection would be read as the
    // body of the first.
    const response = await send(
      'GET /qa/% HTTP/1.1\r\nTransfer-Encoding: \r\nConnection: close\r\n\r\n ',
    );

    expectErrorShape(response, 400, 'invalid_request');
    expect(response!.body).not.toContain('HTTP/1.1');
  });

  it('when a JSON body holds bytes that are not UTF-8, then 400 invalid_json and nothing is stored', async () => {
    const before = await countRows();
    const body = Buffer.concat([
      Buffer.from('{"question":"caf'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]);
    const head = `POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;

    const error = expectErrorShape(await send(Buffer.concat([Buffer.from(head), body])), 400);

    expect(error.code).toBe('invalid_json');
    expect(await countRows()).toBe(before);
  });

  // Raw request lines and headers built from pieces a fuzzer or a broken client would send.
  const token = fc.constantFrom(
    'GET',
    'POST',
    'DELETE',
    'HEAD',
    'OPTIONS',
    'PUT',
    'FROB',
    'get',
    'G\u0000T',
    '',
  );
  const path = fc.oneof(
    fc.constantFrom(
      '/ask',
      '/qa/1',
      '/qa/1/retry',
      '/qas',
      '/is_up',
      '/health/ready',
      '/docs',
      '/metrics',
    ),
    fc
      .constantFrom('/qa/', '/qas?since=', '/qas?limit=', '/qas?cursor=', '/qa/1?x=')
      .chain((prefix) =>
        fc
          .string({
            unit: fc.constantFrom(
              '%',
              'F',
              'f',
              '0',
              '9',
              'Z',
              '+',
              ':',
              '\u0000',
              ' ',
              'é',
              '/',
              '?',
              '&',
              '=',
              '.',
              '-',
              'T',
            ),
            maxLength: 40,
          })
          .map((tail) => prefix + tail),
      ),
  );
  const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', '');
  const headerName = fc.constantFrom(
    'Host',
    'Content-Type',
    'Accept',
    'Authorization',
    'Idempotency-Key',
    'X-Request-Id',
    'Transfer-Encoding',
    'Content-Length',
    'X-\u0000',
    'Bad Name',
    '',
  );
  const headerValue = fc.string({
    unit: fc.constantFrom(
      'a',
      'Z',
      '0',
      ' ',
      '\t',
      ';',
      '=',
      ',',
      '"',
      '\u0000',
      '\u007f',
      'é',
      'text/event-stream',
      'application/json',
      'chunked',
      '-1',
      '99',
    ),
    maxLength: 30,
  });
  const header = fc.tuple(headerName, headerValue).map(([name, value]) => `${name}: ${value}`);
  const body = fc.oneof(
    fc.constant(''),
    fc.constant('{"question":"Fuzzed?"}'),
    fc.string({ maxLength: 60 }),
    fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  );
  const rawHttp = fc
    .record({ method: token, path, version, headers: fc.array(header, { maxLength: 6 }), body })
    .map(({ method, path, version, headers, body }) => {
      const bytes = Buffer.from(body, 'latin1');
      // Always complete by its own account, so the server never waits for more.
      const framing = headers.some((line) => /^(transfer-encoding|content-length):/i.test(line))
        ? []
        : [`Content-Length: ${bytes.length}`];
      const head = [
        `${method} ${path} ${version}`.trim(),
        ...headers,
        ...framing,
        'Connection: close',
      ];
      return {
        method,
        text: Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), bytes]),
      };
    });

  it('when random request lines, headers and bodies arrive on the wire, then no answer is a 5xx and every error has the contract shape', async () => {
    await fc.assert(
      fc.asyncProperty(rawHttp, async ({ method, text }) => {
        const response = await send(text);
        // A request whose own framing is left unfinished may be closed unanswered; all else
        // is answered.
        if (response === undefined) return;
        expect(response.status, text.toString('latin1').slice(0, 200)).toBeLessThan(500);
        if (response.status >= 400 && method !== 'HEAD') {
          expect(response.headers['content-type'], response.body).toBe(JSON_TYPE);
          expect(JSON.parse(response.body)).toMatchObject({
            error: { code: expect.any(String), message: expect.any(String) },
          });
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
