import { describe, expect, it } from 'vitest';
import { type Fault } from '../fake-openai/fake-openai.js';
import { ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import {
  ISO_UTC,
  JSON_CONTENT_TYPE,
  type QaJson,
  closedPortBaseUrl,
  expectError,
  expectOk,
} from '../helpers/http.js';

describe('POST /ask on PostgreSQL', () => {
  const suite = useAskbaseSuite();

  /** Rows in question_answers; tests in a file run one at a time, so a difference is theirs. */
  async function countRows(): Promise<number> {
    const [row] = await suite.db.query<{ n: number }>(
      'select count(*)::int as n from question_answers',
    );
    return row?.n ?? -1;
  }

  function getQa(id: number, base = suite.askbase.url) {
    return fetch(`${base}/qa/${id}`);
  }

  it('when the LLM answer contains NUL characters, then it is stored with U+FFFD in their place instead of being refused', async () => {
    suite.fake.setBehavior({ answer: () => 'before\u0000after' });

    const answered = await expectOk<QaJson>(await ask(suite.askbase.url, { question: 'NUL?' }));

    expect(answered.answer).toBe('before\uFFFDafter');
    const [row] = await suite.db.query(
      'select status, answer from question_answers where id = $1',
      [answered.id],
    );
    expect(row).toEqual({ status: 'answered', answer: 'before\uFFFDafter' });
  });

  it('when the LLM answers, then the answer is returned and stored exactly as the LLM gave it', async () => {
    suite.fake.setBehavior({ answer: () => 'Paris.' });

    const response = await ask(suite.askbase.url, { question: 'What is the capital of France?' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      question: 'What is the capital of France?',
      answer: 'Paris.',
      status: 'answered',
      model: 'gpt-5-mini',
      error: null,
    });
    expect(new Date(body.created_at as string).toISOString()).toBe(body.created_at);
    const [row] = await suite.db.query(
      'select answer, status from question_answers where id = $1',
      [body.id],
    );
    expect(row).toEqual({ answer: 'Paris.', status: 'answered' });
  });

  it('when the LLM answers, then the QuestionAnswer object has every key of the contract', async () => {
    suite.fake.setBehavior({ answer: () => 'Four.' });

    const body = await expectOk<QaJson>(
      await ask(suite.askbase.url, { question: 'What is 2 + 2?' }),
    );

    expect(Object.keys(body).sort()).toEqual(
      [
        'id',
        'question',
        'answer',
        'status',
        'created_at',
        'answered_at',
        'model',
        'usage',
        'latency_ms',
        'error',
        'key_name',
        'text_stored',
        'cost_usd',
        'cached_from',
        'kind',
        'conversation_id',
        'parent_id',
        'finish_reason',
        'ttft_ms',
      ].sort(),
    );
    expect(Number.isSafeInteger(body.id) && body.id > 0).toBe(true);
    expect(body.usage).toEqual({
      prompt_tokens: expect.any(Number) as number,
      completion_tokens: expect.any(Number) as number,
      total_tokens: expect.any(Number) as number,
      cached_prompt_tokens: null,
      reasoning_tokens: null,
    });
    expect(body).toMatchObject({
      kind: 'ask',
      conversation_id: null,
      parent_id: null,
      finish_reason: 'stop',
      ttft_ms: null,
    });
    expect(Number.isInteger(body.latency_ms) && body.latency_ms! >= 0).toBe(true);
  });

  it('when the LLM answers, then created_at and answered_at are ISO-8601 UTC, in order, on POST and GET', async () => {
    const posted = await expectOk<QaJson>(
      await ask(suite.askbase.url, { question: 'What time is it?' }),
    );
    const got = await expectOk<QaJson>(await getQa(posted.id));

    for (const qa of [posted, got]) {
      expect(qa.created_at).toMatch(ISO_UTC);
      expect(qa.answered_at).toMatch(ISO_UTC);
      expect(Date.parse(qa.answered_at!)).toBeGreaterThanOrEqual(Date.parse(qa.created_at));
    }
    expect(got.created_at).toBe(posted.created_at);
  });

  it('when the request has unknown fields, then they are ignored and the question is answered', async () => {
    const response = await ask(suite.askbase.url, {
      question: 'Is this field ignored?',
      temperature: 2,
      model: 'gpt-4o',
      id: 999_999,
      status: 'failed',
    });

    const body = await expectOk<Record<string, unknown>>(response);
    expect(body).toMatchObject({ question: 'Is this field ignored?', status: 'answered' });
    expect(body).not.toHaveProperty('temperature');
    expect(body.id).not.toBe(999_999);
    expect(suite.fake.requests).toHaveLength(1);
  });

  it('when no SYSTEM_PROMPT is set, then the LLM gets only the user message', async () => {
    await expectOk(await ask(suite.askbase.url, { question: 'Just me?' }));

    expect(suite.fake.requests).toHaveLength(1);
    expect(suite.fake.requests[0]?.messages).toEqual([{ role: 'user', content: 'Just me?' }]);
  });

  it('when SYSTEM_PROMPT and OPENAI_MODEL are set, then the LLM request carries both', async () => {
    const configured = await suite.start({
      OPENAI_MODEL: 'test-model-7',
      SYSTEM_PROMPT: 'Answer in one word.',
    });

    const body = await expectOk<QaJson>(await ask(configured.url, { question: 'Sky colour?' }));

    expect(suite.fake.requests).toHaveLength(1);
    expect(suite.fake.requests[0]?.model).toBe('test-model-7');
    expect(suite.fake.requests[0]?.messages).toEqual([
      { role: 'system', content: 'Answer in one word.' },
      { role: 'user', content: 'Sky colour?' },
    ]);
    expect(body.model).toBe('test-model-7');
  });

  describe('when the body is not a valid request', () => {
    it.each([
      ['a JSON array', '[{"question": "What?"}]'],
      ['a JSON string', '"What?"'],
      ['JSON null', 'null'],
      ['a JSON number', '42'],
    ])('when the body is %s, then 400 invalid_request and nothing is stored', async (_, body) => {
      const before = await countRows();

      await expectError(await ask(suite.askbase.url, body), 400, 'invalid_request');

      expect(await countRows()).toBe(before);
      expect(suite.fake.requests).toHaveLength(0);
    });

    it.each([
      ['missing', {}],
      ['missing (another field given instead)', { q: 'What?' }],
      ['a number (not coerced to a string)', { question: 42 }],
      ['a boolean', { question: true }],
      ['null', { question: null }],
      ['an array', { question: ['What?'] }],
      ['an object', { question: { text: 'What?' } }],
      ['empty', { question: '' }],
      ['whitespace only', { question: ' \t\n\r\u00a0\u3000 ' }],
    ])(
      'when question is %s, then 400 invalid_request naming question, and nothing is stored',
      async (_, body) => {
        const before = await countRows();

        const { error } = await expectError(
          await ask(suite.askbase.url, body),
          400,
          'invalid_request',
        );

        expect(error.message).toMatch(/question/);
        expect(await countRows()).toBe(before);
        expect(suite.fake.requests).toHaveLength(0);
      },
    );

    it.each([
      ['truncated JSON', '{"question": "What?"'],
      ['not JSON at all', 'question=What?'],
      ['JSON with a trailing comma', '{"question": "What?",}'],
      ['empty', ''],
    ])('when the body is %s, then 400 invalid_json and nothing is stored', async (_, body) => {
      const before = await countRows();

      await expectError(await ask(suite.askbase.url, body), 400, 'invalid_json');

      expect(await countRows()).toBe(before);
      expect(suite.fake.requests).toHaveLength(0);
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['text/plain with a charset', 'text/plain; charset=utf-8'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['XML', 'application/xml'],
    ])(
      'when Content-Type is %s, then 415 unsupported_media_type and nothing is stored',
      async (_, contentType) => {
        const before = await countRows();

        const response = await ask(
          suite.askbase.url,
          { question: 'What?' },
          { 'content-type': contentType },
        );

        await expectError(response, 415, 'unsupported_media_type');
        expect(await countRows()).toBe(before);
        expect(suite.fake.requests).toHaveLength(0);
      },
    );

    it('when there is no Content-Type, then 415 unsupported_media_type and nothing is stored', async () => {
      const before = await countRows();

      // A byte body makes fetch send no Content-Type at all.
      const response = await fetch(`${suite.askbase.url}/ask`, {
        method: 'POST',
        body: new TextEncoder().encode(JSON.stringify({ question: 'What?' })),
      });

      await expectError(response, 415, 'unsupported_media_type');
      expect(await countRows()).toBe(before);
      expect(suite.fake.requests).toHaveLength(0);
    });

    it('when Content-Type is JSON with a charset, then the question is answered', async () => {
      const response = await ask(
        suite.askbase.url,
        { question: 'Charset?' },
        { 'content-type': 'application/json; charset=utf-8' },
      );

      await expectOk(response);
    });

    it('when the question is longer than MAX_QUESTION_LENGTH, then 400 invalid_request and nothing is stored', async () => {
      const small = await suite.start({ MAX_QUESTION_LENGTH: '10' });
      const before = await countRows();

      const { error } = await expectError(
        await ask(small.url, { question: 'abcdefghijk' }),
        400,
        'invalid_request',
      );

      expect(error.message).toMatch(/question/);
      expect(await countRows()).toBe(before);
      expect(suite.fake.requests).toHaveLength(0);
    });

    it('when the question has exactly MAX_QUESTION_LENGTH characters (emoji count as one), then it is answered', async () => {
      const small = await suite.start({ MAX_QUESTION_LENGTH: '10' });

      await expectOk(await ask(small.url, { question: 'abcdefghij' }));
      await expectOk(await ask(small.url, { question: '😀'.repeat(10) }));
      await expectOk(await ask(small.url, { question: '   abcdefghij   ' }));
    });

    it('when the body is larger than BODY_LIMIT_BYTES, then 413 payload_too_large and nothing is stored', async () => {
      const limited = await suite.start({ BODY_LIMIT_BYTES: '1024' });
      const before = await countRows();

      const response = await ask(limited.url, { question: 'x'.repeat(2000) });

      await expectError(response, 413, 'payload_too_large');
      expect(await countRows()).toBe(before);
      expect(suite.fake.requests).toHaveLength(0);
    });

    it.each([
      ['inside the question', 'What\u0000is this?'],
      ['as the whole question', '\u0000'],
    ])(
      'when a NUL character is %s, then a 4xx (never a 5xx) and nothing is stored',
      async (_, question) => {
        const before = await countRows();

        const response = await ask(suite.askbase.url, { question });

        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        const { error } = await expectError(
          response,
          response.status,
          expect.any(String) as string,
        );
        expect(error.code).not.toBe('internal_error');
        expect(await countRows()).toBe(before);
        expect(suite.fake.requests).toHaveLength(0);
      },
    );

    it.each([
      ['a lone high surrogate', 'abc\ud800def'],
      ['a lone low surrogate', 'abc\udc00def'],
      ['a reversed surrogate pair', 'abc\udc00\ud800def'],
    ])(
      'when the question has %s, then 400 invalid_request and nothing is stored',
      async (_, question) => {
        const before = await countRows();

        // JSON.stringify escapes lone surrogates as \udXXX, which is valid JSON.
        await expectError(await ask(suite.askbase.url, { question }), 400, 'invalid_request');

        expect(await countRows()).toBe(before);
        expect(suite.fake.requests).toHaveLength(0);
      },
    );
  });

  describe('when the method is not POST', () => {
    it.each(['GET', 'PUT', 'DELETE', 'PATCH'])(
      'when %s /ask, then 405 method_not_allowed with Allow: POST and nothing is stored',
      async (method) => {
        const before = await countRows();
        const hasBody = method === 'PUT' || method === 'PATCH';

        const response = await fetch(`${suite.askbase.url}/ask`, {
          method,
          ...(hasBody && {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ question: 'What?' }),
          }),
        });

        await expectError(response, 405, 'method_not_allowed');
        expect(response.headers.get('allow')).toBe('POST');
        expect(await countRows()).toBe(before);
        expect(suite.fake.requests).toHaveLength(0);
      },
    );
  });

  describe('when no LLM is configured', () => {
    it('when asked, then 503 llm_not_configured and nothing is stored', async () => {
      const unconfigured = await suite.start({ OPENAI_BASE_URL: undefined });
      const before = await countRows();

      const { error } = await expectError(
        await ask(unconfigured.url, { question: 'Anyone there?' }),
        503,
        'llm_not_configured',
      );

      expect(error.id).toBeUndefined();
      expect(await countRows()).toBe(before);
      expect(suite.fake.requests).toHaveLength(0);
    });
  });

  describe('when the LLM fails', () => {
    /** Asserts the failed ask was stored as failed with `code`, and reads back the same way. */
    async function expectStoredAsFailed(id: number | undefined, code: string, question: string) {
      expect(Number.isSafeInteger(id) && id! > 0, `error.id is ${id}`).toBe(true);
      const [row] = await suite.db.query(
        'select question, status, answer, error_code from question_answers where id = $1',
        [id],
      );
      expect(row).toEqual({ question, status: 'failed', answer: null, error_code: code });
      const getResponse = await getQa(id!);
      const text = await getResponse.text();
      expect(getResponse.status).toBe(200);
      const qa = JSON.parse(text) as QaJson;
      expect(qa).toMatchObject({ id, status: 'failed', answer: null, answered_at: null });
      expect(qa.error).toEqual({ code, message: expect.any(String) as string });
      expect(text).not.toContain('secret-internal-detail');
    }

    it.each<[string, Fault, number, string]>([
      ['rejects the request (400)', 'bad_request', 502, 'llm_bad_response'],
      ['sends a malformed body', 'malformed', 502, 'llm_bad_response'],
      ['sends an empty answer', 'empty_answer', 502, 'llm_bad_response'],
      ['sends a null answer', 'null_answer', 502, 'llm_bad_response'],
      ['sends no choices', 'no_choices', 502, 'llm_bad_response'],
      ['fails (500)', 'server_error', 503, 'llm_unavailable'],
    ])(
      'when the LLM %s, then %i %s with the stored id, and the row is failed',
      async (_, fault, status, code) => {
        suite.fake.setBehavior({ fault });
        const question = `What happens on ${fault}?`;

        const response = await ask(suite.askbase.url, { question });

        const { error, text } = await expectError(response, status, code);
        expect(text).not.toContain('secret-internal-detail');
        await expectStoredAsFailed(error.id, code, question);
      },
    );

    it('when the LLM rate limits (429), then 503 llm_unavailable with Retry-After and the stored id', async () => {
      suite.fake.setBehavior({ fault: 'rate_limit' });

      const response = await ask(suite.askbase.url, { question: 'Too many?' });

      expect(response.headers.get('retry-after')).toBe('7');
      const { error } = await expectError(response, 503, 'llm_unavailable');
      await expectStoredAsFailed(error.id, 'llm_unavailable', 'Too many?');
    });

    it('when the LLM keeps failing (500) with OPENAI_MAX_RETRIES=1, then it is tried twice, answers 503 llm_unavailable, and one failed row is stored', async () => {
      const retrying = await suite.start({ OPENAI_MAX_RETRIES: '1' });
      suite.fake.setBehavior({ fault: 'server_error' });
      const before = await countRows();

      const response = await ask(retrying.url, { question: 'Try again?' });

      const { error } = await expectError(response, 503, 'llm_unavailable');
      expect(suite.fake.requests).toHaveLength(2);
      expect(await countRows()).toBe(before + 1);
      await expectStoredAsFailed(error.id, 'llm_unavailable', 'Try again?');
    });

    it('when the LLM fails once (500) and a retry succeeds, then 200 and one answered row', async () => {
      const retrying = await suite.start({ OPENAI_MAX_RETRIES: '1' });
      suite.fake.setBehavior(() =>
        suite.fake.requests.length === 1 ? { fault: 'server_error' } : {},
      );
      const before = await countRows();

      const body = await expectOk<QaJson>(await ask(retrying.url, { question: 'Second time?' }));

      expect(body.status).toBe('answered');
      expect(suite.fake.requests).toHaveLength(2);
      expect(await countRows()).toBe(before + 1);
    });

    it('when the LLM refuses connections, then 503 llm_unavailable with the stored id', async () => {
      const unreachable = await suite.start({ OPENAI_BASE_URL: await closedPortBaseUrl() });

      const response = await ask(unreachable.url, { question: 'Is it down?' });

      const { error } = await expectError(response, 503, 'llm_unavailable');
      await expectStoredAsFailed(error.id, 'llm_unavailable', 'Is it down?');
    });

    it('when the LLM hangs past OPENAI_TIMEOUT_MS, then 504 llm_timeout with the stored id', async () => {
      const impatient = await suite.start({ OPENAI_TIMEOUT_MS: '300' });
      suite.fake.setBehavior({ fault: 'hang' });

      const response = await ask(impatient.url, { question: 'Still thinking?' });

      const { error } = await expectError(response, 504, 'llm_timeout');
      await expectStoredAsFailed(error.id, 'llm_timeout', 'Still thinking?');
    });
  });

  describe('when an API key is configured', () => {
    const apiKey = 'test-key-not-secret';

    it.each<Fault>(['none', 'bad_request', 'rate_limit', 'server_error', 'malformed'])(
      'when the LLM responds with fault %s, then the key is sent upstream but never appears in a response',
      async (fault) => {
        const keyed = await suite.start({ OPENAI_API_KEY: apiKey });
        suite.fake.setBehavior({ fault });

        const responses = [await ask(keyed.url, { question: `Key safe on ${fault}?` })];
        const first = (await responses[0]!.clone().json()) as {
          id?: number;
          error?: { id: number };
        };
        const id = first.id ?? first.error?.id;
        responses.push(await fetch(`${keyed.url}/qa/${id}`));
        responses.push(await fetch(`${keyed.url}/qas?limit=5`));

        expect(suite.fake.requests[0]?.authorization).toBe(`Bearer ${apiKey}`);
        for (const response of responses) {
          const text = await response.text();
          expect(text).not.toContain(apiKey);
          expect(text).not.toContain('secret-internal-detail');
          for (const [name, value] of response.headers) {
            expect(`${name}: ${value}`).not.toContain(apiKey);
          }
        }
      },
    );
  });

  describe('when the question is Unicode', () => {
    it.each([
      ['emoji with ZWJ sequences and flags', 'Who is in 👩‍👩‍👧‍👦 and what is 🇫🇷? 😀🙃'],
      ['Hebrew', 'מהי בירת צרפת?'],
      ['Chinese', '法国的首都是哪里？'],
      ['combining marks (NFD, not normalised)', 'Cafe\u0301 n\u0303 A\u030A Z\u0335\u0317\u0353'],
      ['mixed scripts and bidi controls', 'Ask \u202Bמה\u202C 和 émoji 🎉 ∑ x² \u200D end'],
    ])('when the question is %s, then it round-trips exactly', async (_, question) => {
      const posted = await expectOk<QaJson>(await ask(suite.askbase.url, { question }));
      const got = await expectOk<QaJson>(await getQa(posted.id));
      const [row] = await suite.db.query<{ question: string }>(
        'select question from question_answers where id = $1',
        [posted.id],
      );

      expect(posted.question).toBe(question);
      expect(posted.answer).toBe(`Answer to: ${question}`);
      expect(got.question).toBe(question);
      expect(got.answer).toBe(`Answer to: ${question}`);
      expect(row?.question).toBe(question);
      expect(suite.fake.requests.at(-1)?.messages.at(-1)?.content).toBe(question);
    });
  });

  it('when any response is sent, then its content type is JSON with charset utf-8', async () => {
    const responses = [
      await ask(suite.askbase.url, { question: 'ok?' }),
      await ask(suite.askbase.url, '{'),
      await fetch(`${suite.askbase.url}/ask`),
    ];
    for (const response of responses) {
      expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    }
  });
});
