import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { type ServerSentEvent, allEvents, readEvents } from '../helpers/server-sent-events.js';
import { waitFor } from '../helpers/wait-for.js';

const STREAM = { accept: 'text/event-stream' };
const ANSWER = 'Paris is the capital of France; the Seine runs through it.';

describe('POST /ask as server-sent events on PostgreSQL', () => {
  const suite = useAskbaseSuite();

  const names = (events: ServerSentEvent[]) => events.map((event) => event.event);
  const deltaText = (events: ServerSentEvent[]) =>
    events
      .filter((event) => event.event === 'delta')
      .map((event) => (event.data as { text: string }).text)
      .join('');
  const rowOf = async (id: unknown) =>
    (
      await suite.db.query(
        `select answer, status, error_code, prompt_tokens, completion_tokens, total_tokens
           from question_answers where id = $1`,
        [id],
      )
    )[0];

  it('when the client accepts an event stream, then created, the deltas and done arrive in order', async () => {
    suite.fake.setBehavior({ answer: () => ANSWER });

    const response = await ask(suite.askbase.url, { question: 'Where is Paris?' }, STREAM);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const events = await allEvents(response);
    const deltas = events.filter((event) => event.event === 'delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(names(events)).toEqual(['created', ...deltas.map(() => 'delta'), 'done']);
    const created = events[0]?.data as { id: number };
    expect(created).toEqual({ id: expect.any(Number) as number });
    expect(events.at(-1)?.data).toMatchObject({
      id: created.id,
      question: 'Where is Paris?',
      answer: ANSWER,
      status: 'answered',
      error: null,
    });
  });

  it('when an answer is streamed, then the deltas, the stored answer and GET /qa/:id agree, usage included', async () => {
    suite.fake.setBehavior({ answer: () => ANSWER });

    const events = await allEvents(
      await ask(suite.askbase.url, { question: 'Where is Paris?' }, STREAM),
    );

    const done = events.at(-1)?.data as { id: number; usage: unknown; ttft_ms: unknown };
    expect(deltaText(events)).toBe(ANSWER);
    const read = await fetch(`${suite.askbase.url}/qa/${done.id}`);
    expect(await read.json()).toEqual(done);
    expect(await rowOf(done.id)).toEqual({
      answer: ANSWER,
      status: 'answered',
      error_code: null,
      prompt_tokens: 3,
      completion_tokens: 11,
      total_tokens: 14,
    });
    expect(done.usage).toEqual({
      prompt_tokens: 3,
      completion_tokens: 11,
      total_tokens: 14,
      cached_prompt_tokens: null,
      reasoning_tokens: null,
    });
    expect(done.ttft_ms).toEqual(expect.any(Number));
    expect(suite.fake.requests[0]).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('when the body says "stream": true, then the answer streams without an Accept header', async () => {
    const response = await ask(suite.askbase.url, { question: 'Stream me', stream: true });

    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(names(await allEvents(response)).at(-1)).toBe('done');
  });

  it('when the body says "stream": false, then the reply is JSON whatever the Accept header says', async () => {
    const response = await ask(suite.askbase.url, { question: 'No stream', stream: false }, STREAM);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toMatchObject({ status: 'answered' });
  });

  it('when the LLM fails, then an error event carries the question id and the row is failed', async () => {
    suite.fake.setBehavior({ fault: 'server_error' });

    const events = await allEvents(
      await ask(suite.askbase.url, { question: 'Will this fail?' }, STREAM),
    );

    expect(names(events)).toEqual(['created', 'error']);
    const { id } = events[0]?.data as { id: number };
    expect(events[1]?.data).toEqual({
      error: { code: 'llm_unavailable', message: 'the LLM failed (status 500)', id },
    });
    expect(await rowOf(id)).toMatchObject({ status: 'failed', error_code: 'llm_unavailable' });
  });

  it('when the LLM connection breaks mid-answer, then the deltas so far are followed by an error event, and the row keeps them', async () => {
    suite.fake.setBehavior({ fault: 'cut_stream', answer: () => ANSWER });

    const events = await allEvents(
      await ask(suite.askbase.url, { question: 'Cut me off' }, STREAM),
    );

    expect(names(events)).toEqual(['created', 'delta', 'error']);
    const { id } = events[0]?.data as { id: number };
    expect(events[2]?.data).toMatchObject({ error: { code: 'llm_unavailable', id } });
    // What arrived before the break was seen and paid for: it is kept with the failure.
    expect(await rowOf(id)).toMatchObject({ status: 'failed', answer: deltaText(events) });
    expect(deltaText(events)).not.toBe('');
  });

  it('when the client goes away after created, then the answer is still generated and stored', async () => {
    suite.fake.setBehavior({ answer: () => ANSWER, chunkDelayMs: 30 });
    const client = new AbortController();

    const response = await ask(
      suite.askbase.url,
      { question: 'Leaving early' },
      STREAM,
      client.signal,
    );
    let id: number | undefined;
    for await (const event of readEvents(response)) {
      if (event.event === 'created') id = (event.data as { id: number }).id;
      break;
    }
    client.abort();

    expect(id).toBeDefined();
    const stored = await waitFor(async () => {
      const body = (await (await fetch(`${suite.askbase.url}/qa/${id}`)).json()) as {
        status: string;
        answer: string | null;
      };
      return body.status === 'pending' ? undefined : body;
    });
    expect(stored).toMatchObject({ status: 'answered', answer: ANSWER });
  });

  it('when the question is invalid, then the reply is a plain JSON 400 and nothing is stored', async () => {
    const before = await suite.db.query('select count(*)::int as n from question_answers');

    const response = await ask(suite.askbase.url, { question: '   ' }, STREAM);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({
      error: {
        code: 'invalid_request',
        message: 'question must be a non-empty string',
        param: 'question',
      },
    });
    expect(await suite.db.query('select count(*)::int as n from question_answers')).toEqual(before);
  });

  it('when "stream" is not a boolean, then 400 names the parameter', async () => {
    const response = await ask(suite.askbase.url, { question: 'Hi', stream: 'yes' });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_request', param: 'stream' },
    });
  });

  it('when no LLM is configured, then a streaming ask is a plain JSON 503', async () => {
    const withoutLlm = await suite.start({ OPENAI_BASE_URL: undefined });
    const response = await ask(withoutLlm.url, { question: 'Anyone there?' }, STREAM);

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toMatchObject({ error: { code: 'llm_not_configured' } });
  });

  it('when askbase stops while a stream whose client left is still answering, then the answer is stored first', async () => {
    const stopping = await suite.start();
    suite.fake.setBehavior({ answer: () => ANSWER, chunkDelayMs: 30 });
    const client = new AbortController();
    const response = await ask(stopping.url, { question: 'Stop soon' }, STREAM, client.signal);
    let id: number | undefined;
    for await (const event of readEvents(response)) {
      id = (event.data as { id: number }).id;
      break;
    }
    client.abort();

    await stopping.stop();

    expect(await rowOf(id)).toMatchObject({ status: 'answered', answer: ANSWER });
  });
});
