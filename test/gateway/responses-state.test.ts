import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import pg from 'pg';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses.js';
import { describe, expect, it } from 'vitest';
import { unique } from '../helpers/each-database.js';
import { type QaJson, expectOk, settledRow } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';

const KEYS = { alice: `alice-${crypto.randomUUID()}`, bob: `bob-${crypto.randomUUID()}` };

const clientOf = (url: string, apiKey: string = KEYS.alice) =>
  new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });

interface Exchange {
  request: { input: { role?: string; type?: string; content?: unknown }[]; model: string };
  response: { id: string; output: unknown[] };
  history_complete: boolean;
}

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

describe('responses kept by askbase: keys, repeats, failures and bad input', () => {
  const suite = useAskbaseSuite({ env: { API_KEYS: `alice:${KEYS.alice},bob:${KEYS.bob}` } });
  const alice = () => clientOf(suite.askbase.url);
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${suite.askbase.url}/v1/responses`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.alice}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const rowOf = (id: number) =>
    settledRow<QaJson>(suite.askbase.url, id, { authorization: `Bearer ${KEYS.alice}` });

  it("when another key names a response, then it is not found, and cannot be continued: one key's state is its own", async () => {
    const mine = await alice().responses.create({ model: 'gpt-5-mini', input: unique('mine ') });
    const bob = clientOf(suite.askbase.url, KEYS.bob);
    await expect(bob.responses.retrieve(mine.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.responses.delete(mine.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      bob.responses.create({ model: 'gpt-5-mini', input: 'go on', previous_response_id: mine.id }),
    ).rejects.toBeInstanceOf(BadRequestError);
    // Still there for its own key.
    expect((await alice().responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  it('when a follow-up goes to another replica the moment the response completed, then it continues it', async () => {
    const other = await suite.start();
    const question = unique('replica ');
    const stream = alice().responses.stream({ model: 'gpt-5-mini', input: question });
    const first = await stream.finalResponse();
    const next = await clientOf(other.url).responses.create({
      model: 'gpt-5-mini',
      input: 'and on the other one?',
      previous_response_id: first.id,
    });
    expect(next.previous_response_id).toBe(first.id);
    expect(suite.fake.requests.at(-1)?.messages.map((m) => m.content)).toEqual([
      question,
      `Answer to: ${question}`,
      'and on the other one?',
    ]);
  });

  it('when storing the row is slow, then the LLM is already being asked meanwhile, and the response waits for its record', async () => {
    // askbase has stored a row since any outage: it asks the LLM while storing again.
    const first = await alice().responses.create({ model: 'gpt-5-mini', input: unique('warm ') });
    // A lock of the test's own holds every insert: the row cannot be stored until it ends.
    const locker = new pg.Client({ connectionString: suite.db.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table question_answers in share mode');
      const pending = alice()
        .responses.create({
          model: 'gpt-5-mini',
          input: 'Asked early?',
          previous_response_id: first.id,
        })
        .withResponse();
      await suite.fake.waitForRequests(2);
      await locker.query('commit');
      const { data, response } = await pending;
      expect(data.previous_response_id).toBe(first.id);
      // Answered once recorded: the row is complete the moment the client has it.
      const row = await expectOk<QaJson>(
        await fetch(`${suite.askbase.url}/qa/${response.headers.get('x-askbase-id')}`, {
          headers: { authorization: `Bearer ${KEYS.alice}` },
        }),
      );
      expect(row).toMatchObject({ kind: 'response', status: 'answered', answer: data.output_text });
    } finally {
      await locker.end();
    }
  });

  it('when a conversation of three responses is read back, then the last exchange holds every item in order', async () => {
    const first = await alice().responses.create({ model: 'gpt-5-mini', input: unique('one ') });
    const second = await alice().responses.create({
      model: 'gpt-5-mini',
      input: 'two',
      previous_response_id: first.id,
    });
    const { response } = await alice()
      .responses.create({ model: 'gpt-5-mini', input: 'three', previous_response_id: second.id })
      .withResponse();
    const id = Number(response.headers.get('x-askbase-id'));
    const exchange = await expectOk<Exchange>(
      await fetch(`${suite.askbase.url}/qa/${id}/exchange`, {
        headers: { authorization: `Bearer ${KEYS.alice}` },
      }),
    );
    expect(exchange.history_complete).toBe(true);
    expect(exchange.request.model).toBe('gpt-5-mini');
    expect(exchange.request.input.map((item) => [item.type, item.role])).toEqual([
      [undefined, 'user'],
      ['message', 'assistant'],
      [undefined, 'user'],
      ['message', 'assistant'],
      [undefined, 'user'],
    ]);
    expect(exchange.response.output).toHaveLength(1);
    // The fake saw the same conversation: askbase sent it whole.
    expect(suite.fake.requests.at(-1)?.messages.map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
  });

  it('when a request is repeated with its Idempotency-Key, then the first response answers it and the LLM is asked once', async () => {
    const key = crypto.randomUUID();
    const body = { model: 'gpt-5-mini', input: unique('once ') };
    const first = await expectOk<{ id: string; output: unknown[] }>(
      await post(body, { 'idempotency-key': key }),
    );
    const again = await expectOk<{ id: string; output: unknown[] }>(
      await post(body, { 'idempotency-key': key }),
    );
    expect(again).toEqual(first);
    const streamed = await post({ ...body, stream: true }, { 'idempotency-key': key });
    const text = await streamed.text();
    expect(text).toContain('event: response.completed');
    expect(text).toContain(first.id);
    expect(suite.fake.requests).toHaveLength(1);
  });

  it('when the upstream breaks off mid-stream, then the stream ends with response.failed and the row keeps what arrived', async () => {
    suite.fake.setBehavior({ fault: 'cut_stream' });
    const question = unique('cut ').padEnd(60, '.');
    const { data: stream, response } = await alice()
      .responses.create({ model: 'gpt-5-mini', input: question, stream: true })
      .withResponse();
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const last = events.at(-1);
    expect(last?.type).toBe('response.failed');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const failed = last as Extract<ResponseStreamEvent, { type: 'response.failed' }>;
    expect(failed.response.error?.code).toBe('llm_unavailable');
    const id = Number(response.headers.get('x-askbase-id'));
    const row = await rowOf(id);
    expect(row.status).toBe('failed');
    expect(row.answer).toBe('Answer t'); // the first piece, which the client saw
    const back = await alice().responses.retrieve(failed.response.id);
    expect(back.status).toBe('failed');
    // Nothing to continue from.
    suite.fake.setBehavior({});
    await expect(
      alice().responses.create({
        model: 'gpt-5-mini',
        input: 'go on',
        previous_response_id: failed.response.id,
      }),
    ).rejects.toBeInstanceOf(BadRequestError);
  });

  it('when the upstream fails a plain request, then the client gets an OpenAI-shaped 503 naming the row, and it is retryable', async () => {
    suite.fake.setBehavior({ fault: 'server_error' });
    const response = await post({ model: 'gpt-5-mini', input: unique('fails ') });
    expect(response.status).toBe(503);
    const body = (await response.json()) as OpenAIErrorBody & { error: { askbase_id: number } };
    expect(body.error).toMatchObject({ type: 'server_error', code: 'llm_unavailable' });
    expect((await rowOf(body.error.askbase_id)).status).toBe('failed');
  });

  it('when a request is malformed or names what askbase does not do, then it gets a 400 in OpenAI shape and nothing is asked', async () => {
    const cases: [unknown, string | null][] = [
      [{ model: 'gpt-5-mini' }, 'input'],
      [{ input: 'hi' }, 'model'],
      [{ model: 'gpt-5-mini', input: 42 }, 'input'],
      [{ model: 'gpt-5-mini', input: 'hi', background: true }, 'background'],
      [{ model: 'gpt-5-mini', input: 'hi', conversation: 'conv_1' }, 'conversation'],
      [
        { model: 'gpt-5-mini', input: 'hi', previous_response_id: 'resp_nope' },
        'previous_response_id',
      ],
      ['{"model": "gpt-5-mini", "input": ', null],
    ];
    for (const [body, param] of cases) {
      const response = await post(body);
      const text = await response.text();
      expect(response.status, text).toBe(400);
      const error = (JSON.parse(text) as OpenAIErrorBody).error;
      expect(error.type, text).toBe('invalid_request_error');
      if (param) expect(error.message + String(error.param), text).toContain(param);
    }
    expect(suite.fake.requests).toHaveLength(0);
  });

  it('when X-Askbase-Store is false, then the response is answered but keeps no text to continue from', async () => {
    const response = await post(
      { model: 'gpt-5-mini', input: unique('unkept ') },
      {
        'x-askbase-store': 'false',
      },
    );
    const body = await expectOk<{ id: string }>(response);
    const row = await rowOf(Number(response.headers.get('x-askbase-id')));
    expect(row).toMatchObject({
      text_stored: false,
      question: null,
      answer: null,
      status: 'answered',
    });
    await expect(alice().responses.retrieve(body.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
