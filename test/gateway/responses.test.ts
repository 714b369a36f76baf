import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import type { FunctionTool, ResponseStreamEvent } from 'openai/resources/responses/responses.js';
import { describe, expect, it } from 'vitest';
import { type Behavior, type ChatRequest, type FakeOpenAI } from '../fake-openai/fake-openai.js';
import type { RunningAskbase } from '../helpers/askbase.js';
import { BOTH_DATABASES, unique } from '../helpers/each-database.js';
import { type QaJson, expectOk, settledRow } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { waitFor } from '../helpers/wait-for.js';

const clientOf = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });

const weather: FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

/** The fake asks for the weather until the request carries the call's output. */
const callsWeatherOnce: Behavior['toolCalls'] = (request) =>
  request.messages.some((m) => m.role === 'tool')
    ? undefined
    : [{ id: `call_${request.model}`, name: 'get_weather', arguments: '{"city":"Oslo"}' }];

/** The upstreams askbase meets: one with /v1/responses, one with only chat completions. */
const UPSTREAMS = [
  { upstream: 'an upstream that serves /v1/responses', responsesApi: true, endpoint: 'responses' },
  { upstream: 'an upstream with only chat completions', responsesApi: false, endpoint: 'chat' },
] as const;

describe.each(BOTH_DATABASES.flatMap((db) => UPSTREAMS.map((up) => ({ ...db, ...up }))))(
  'POST /v1/responses on $driver, through $upstream',
  ({ database, responsesApi, endpoint }) => {
    const suite = useAskbaseSuite({ database });
    const client = () => clientOf(suite.askbase.url);
    const behave = (behavior: Partial<Behavior> = {}) =>
      suite.fake.setBehavior({ responsesApi, ...behavior });
    const row = async (id: number) =>
      expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${id}`));
    /** The requests that reached the LLM's answering endpoint (not a 404 probe). */
    const answered = () => suite.fake.requests.filter((r) => r.endpoint === endpoint);

    it('when a client creates a response, then it gets the answer and askbase stores it as one row', async () => {
      behave();
      const question = unique('plain ');
      const { data, response } = await client()
        .responses.create({ model: 'gpt-5-mini', input: question })
        .withResponse();
      expect(data.output_text).toBe(`Answer to: ${question}`);
      expect(data.id).toMatch(/^resp_[0-9a-f]{48}$/);
      expect(data.status).toBe('completed');
      expect(data.usage).toMatchObject({ input_tokens: expect.any(Number) as number });
      const id = Number(response.headers.get('x-askbase-id'));
      // Answered only once recorded: the row is complete the moment the client has it.
      const stored = await row(id);
      expect(stored).toMatchObject({
        kind: 'response',
        status: 'answered',
        question,
        answer: `Answer to: ${question}`,
        finish_reason: 'stop',
      });
      expect(stored.usage?.prompt_tokens).toBe(data.usage?.input_tokens);
      expect(answered()).toHaveLength(1);
      const rows = await expectOk<QaJson[]>(
        await fetch(`${suite.askbase.url}/qas?q=${encodeURIComponent(question)}`),
      );
      expect(rows.map((r) => r.id)).toEqual([id]);
    });

    it('when a client streams a response, then the typed events arrive in order, numbered, ending completed with usage', async () => {
      behave();
      const question = unique('streamed ');
      const stream = await client().responses.create({
        model: 'gpt-5-mini',
        input: question,
        stream: true,
      });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      const types = events.map((e) => e.type);
      expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
      expect(types.at(-1)).toBe('response.completed');
      expect(types).toContain('response.output_text.delta');
      const deltas = events.flatMap((e) =>
        e.type === 'response.output_text.delta' ? [e.delta] : [],
      );
      expect(deltas.join('')).toBe(`Answer to: ${question}`);
      const created = events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>;
      const completed = events.at(-1) as Extract<
        ResponseStreamEvent,
        { type: 'response.completed' }
      >;
      expect(completed.response.id).toBe(created.response.id);
      expect(completed.response.usage?.output_tokens).toBeGreaterThan(0);
      // The same response, read back.
      const back = await client().responses.retrieve(completed.response.id);
      expect(back.output_text).toBe(`Answer to: ${question}`);
      expect(back.output).toEqual(completed.response.output);
    });

    it('when a follow-up names the previous response the moment it completed, then it continues that conversation', async () => {
      behave();
      const first = unique('first ');
      const stream = client().responses.stream({ model: 'gpt-5-mini', input: first });
      const previous = await stream.finalResponse();
      const next = await client().responses.create({
        model: 'gpt-5-mini',
        input: 'and then?',
        previous_response_id: previous.id,
      });
      expect(next.previous_response_id).toBe(previous.id);
      const sent = answered().at(-1) as ChatRequest;
      expect(sent.messages.map((m) => [m.role, m.content])).toEqual([
        ['user', first],
        ['assistant', `Answer to: ${first}`],
        ['user', 'and then?'],
      ]);
      const rows = await expectOk<QaJson[]>(
        await fetch(`${suite.askbase.url}/qas?q=${encodeURIComponent(first)}`),
      );
      const firstRow = rows[0] as QaJson;
      const turns = await expectOk<QaJson[]>(
        await fetch(`${suite.askbase.url}/qas?conversation=${firstRow.id}`),
      );
      expect(turns).toHaveLength(2);
      const nextRow = turns[0];
      expect(nextRow).toMatchObject({ parent_id: firstRow.id, conversation_id: firstRow.id });
    });

    it('when a tool is called over two turns, then the call and its output keep their ids', async () => {
      behave({ toolCalls: callsWeatherOnce });
      const model = unique('tools');
      const first = await client().responses.create({
        model,
        input: 'Weather in Oslo?',
        tools: [weather],
      });
      const call = first.output.find((item) => item.type === 'function_call');
      expect(call).toMatchObject({ call_id: `call_${model}`, name: 'get_weather' });
      const second = await client().responses.create({
        model,
        previous_response_id: first.id,
        tools: [weather],
        input: [{ type: 'function_call_output', call_id: `call_${model}`, output: '"sunny"' }],
      });
      // The fake answers the last user message, which is still the first turn's.
      expect(second.output_text).toBe('Answer to: Weather in Oslo?');
      const sent = answered().at(-1) as ChatRequest;
      const assistant = sent.messages.find((m) => m.role === 'assistant');
      expect(assistant?.tool_calls).toEqual([
        {
          id: `call_${model}`,
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
        },
      ]);
      expect(sent.messages.find((m) => m.role === 'tool')).toMatchObject({
        tool_call_id: `call_${model}`,
        content: '"sunny"',
      });
      expect(second.usage?.total_tokens).toBeGreaterThan(0);
    });

    it('when a stored response is retrieved, listed for its input and deleted, then each answers from askbase', async () => {
      behave();
      const question = unique('kept ');
      const created = await client().responses.create({
        model: 'gpt-5-mini',
        instructions: 'Be brief.',
        input: [{ role: 'user', content: question }],
      });
      const requests = suite.fake.requests.length;
      const back = await client().responses.retrieve(created.id);
      expect(back).toMatchObject({
        id: created.id,
        status: 'completed',
        instructions: 'Be brief.',
      });
      expect(back.output_text).toBe(`Answer to: ${question}`);
      const items = await client().responses.inputItems.list(created.id);
      expect(items.data).toHaveLength(1);
      expect(items.data[0]).toMatchObject({
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: question }],
      });
      const deleted: unknown = await client().responses.delete(created.id);
      expect(deleted).toEqual({ id: created.id, object: 'response', deleted: true });
      await expect(client().responses.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        client().responses.create({
          model: 'gpt-5-mini',
          input: 'more',
          previous_response_id: created.id,
        }),
      ).rejects.toBeInstanceOf(BadRequestError);
      // Reads and refusals asked the LLM nothing.
      expect(suite.fake.requests.length).toBe(requests);
    });

    it('when the client leaves mid-stream, then the whole answer is stored with its usage', async () => {
      const question = unique('left ').padEnd(200, '.');
      behave({ chunkDelayMs: 5 });
      const controller = new AbortController();
      const { data: stream, response } = await client()
        .responses.create(
          { model: 'gpt-5-mini', input: question, stream: true },
          { signal: controller.signal },
        )
        .withResponse();
      const id = Number(response.headers.get('x-askbase-id'));
      const seen: string[] = [];
      // An aborted SDK stream ends quietly.
      for await (const event of stream) {
        seen.push(event.type);
        if (event.type === 'response.output_text.delta') controller.abort();
      }
      expect(seen).not.toContain('response.completed');
      const stored = await waitFor(async () => {
        const current = await row(id);
        return current.status !== 'pending' && current;
      });
      expect(stored).toMatchObject({ status: 'answered', answer: `Answer to: ${question}` });
      expect(stored.usage?.completion_tokens).toBeGreaterThan(0);
    });

    it('when a response is asked with "store": false, then askbase keeps its text but it cannot be named again', async () => {
      behave();
      const question = unique('unnamed ');
      const { data, response } = await client()
        .responses.create({ model: 'gpt-5-mini', input: question, store: false })
        .withResponse();
      // Not nameable, so answered before it is recorded: read once its outcome is.
      const stored = await settledRow<QaJson>(
        suite.askbase.url,
        Number(response.headers.get('x-askbase-id')),
      );
      // Every exchange is kept (STORE_TEXT); `store` is about naming it again, as with OpenAI.
      expect(stored).toMatchObject({ text_stored: true, question, status: 'answered' });
      await expect(client().responses.retrieve(data.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        client().responses.create({
          model: 'gpt-5-mini',
          input: 'x',
          previous_response_id: data.id,
        }),
      ).rejects.toBeInstanceOf(BadRequestError);
    });
  },
);

describe('how askbase finds out which API the upstream serves (RESPONSES_API)', () => {
  const translate = useAskbaseSuite({ env: { RESPONSES_API: 'translate' } });
  const native = useAskbaseSuite({ env: { RESPONSES_API: 'native' } });
  /** A chat-only upstream, and in each test a fresh askbase (RESPONSES_API=auto): it has learned nothing yet. */
  const auto = useAskbaseSuite({ askbase: false });
  async function withFreshAskbase(
    test: (client: OpenAI, fake: FakeOpenAI, askbase: RunningAskbase) => Promise<void>,
  ) {
    auto.fake.setBehavior({ responsesApi: false });
    const askbase = await auto.start();
    await test(clientOf(askbase.url), auto.fake, askbase);
  }

  it('when the upstream answers 404 to /v1/responses, then askbase translates from then on and asks it once', async () => {
    await withFreshAskbase(async (client, fake) => {
      await client.responses.create({ model: 'gpt-5-mini', input: 'one' });
      await client.responses.create({ model: 'gpt-5-mini', input: 'two' });
      expect(fake.requests.map((r) => r.endpoint)).toEqual(['responses', 'chat', 'chat']);
    });
  });

  it('when askbase learns only from the 404 that a request cannot be translated, then it is refused as the LLM would and stored as failed', async () => {
    await withFreshAskbase(async (client, fake, askbase) => {
      const question = unique('search it ');
      const refused = client.responses
        .create({ model: 'gpt-5-mini', input: question, tools: [{ type: 'web_search' }] })
        .withResponse();
      await expect(refused).rejects.toBeInstanceOf(BadRequestError);
      await expect(refused).rejects.toMatchObject({
        param: 'tools',
        code: 'unsupported_by_upstream',
      });
      expect(fake.requests.map((r) => r.endpoint)).toEqual(['responses']);
      const rows = await expectOk<QaJson[]>(
        await fetch(`${askbase.url}/qas?q=${encodeURIComponent(question)}`),
      );
      expect(rows.map((r) => [r.status, r.error?.code])).toEqual([
        ['failed', 'llm_rejected_request'],
      ]);
    });
  });

  it('when a translated stream is refused by the LLM before its first chunk, then the client gets its 400, not a failed stream', async () => {
    translate.fake.setBehavior({ fault: 'bad_request' });
    const client = clientOf(translate.askbase.url);
    await expect(
      client.responses.create({ model: 'gpt-5-mini', input: unique('refused '), stream: true }),
    ).rejects.toBeInstanceOf(BadRequestError);
  });

  it('when RESPONSES_API is translate, then /v1/responses is never asked', async () => {
    const client = clientOf(translate.askbase.url);
    const response = await client.responses.create({ model: 'gpt-5-mini', input: 'hello' });
    expect(response.output_text).toBe('Answer to: hello');
    expect(translate.fake.requests.map((r) => r.endpoint)).toEqual(['chat']);
  });

  it('when a translated request needs what Chat Completions lacks, then it is refused and nothing is stored', async () => {
    const client = clientOf(translate.askbase.url);
    const marker = unique('hosted ');
    const refused = client.responses.create({
      model: 'gpt-5-mini',
      input: marker,
      tools: [{ type: 'web_search' }],
    });
    await expect(refused).rejects.toBeInstanceOf(BadRequestError);
    await expect(refused).rejects.toMatchObject({ param: 'tools' });
    expect(translate.fake.requests).toHaveLength(0);
    const rows = await expectOk<QaJson[]>(
      await fetch(`${translate.askbase.url}/qas?q=${encodeURIComponent(marker)}`),
    );
    expect(rows).toEqual([]);
  });

  it('when RESPONSES_API is native and the upstream has no /v1/responses, then its 404 is relayed', async () => {
    native.fake.setBehavior({ responsesApi: false });
    const client = clientOf(native.askbase.url);
    await expect(
      client.responses.create({ model: 'gpt-5-mini', input: 'hello' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(native.fake.requests.map((r) => r.endpoint)).toEqual(['responses']);
  });
});
