import OpenAI, { APIError, NotFoundError, RateLimitError } from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeToolCall } from './fake-openai.js';
import { useFakeOpenAI } from '../helpers/suite.js';

/** The fake counts whitespace-separated words as tokens. */
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

const WEATHER_CALLS: FakeToolCall[] = [
  { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
  { id: 'call_2', name: 'get_time', arguments: '{"zone":"Europe/Paris"}' },
];

const TOOLS = [
  {
    type: 'function' as const,
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
    strict: false,
  },
];

/** The error a call rejects with (failing the test if it resolves). */
async function rejection(call: Promise<unknown>): Promise<unknown> {
  const caught: unknown = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught).toBeDefined();
  return caught;
}

describe('the fake OpenAI’s Responses API', () => {
  const llm = useFakeOpenAI();
  let client: OpenAI;
  beforeAll(() => {
    client = new OpenAI({ apiKey: 'test-upstream-key', baseURL: llm.fake.baseUrl, maxRetries: 0 });
  });

  it('when a response is created, then the SDK gets the echo as output_text, with usage, and the request is recorded with derived messages', async () => {
    const question = 'What is the capital of France?';
    const response = await client.responses.create({
      model: 'gpt-5-mini',
      instructions: 'Be brief.',
      input: question,
      store: false,
      metadata: { purpose: 'test' },
    });
    const answer = `Answer to: ${question}`;
    expect(response.output_text).toBe(answer);
    expect(response).toMatchObject({
      id: 'resp_fake_1',
      object: 'response',
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      model: 'gpt-5-mini',
      previous_response_id: null,
      store: false,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      metadata: { purpose: 'test' },
      output: [
        {
          id: 'msg_fake_1',
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: answer, annotations: [], logprobs: [] }],
        },
      ],
      usage: {
        input_tokens: words(question),
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: words(answer),
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: words(question) + words(answer),
      },
    });
    expect(response.created_at).toBeGreaterThan(1_700_000_000);
    expect(llm.fake.requests).toHaveLength(1);
    expect(llm.fake.requests[0]).toMatchObject({
      endpoint: 'responses',
      model: 'gpt-5-mini',
      input: question,
      instructions: 'Be brief.',
      store: false,
      authorization: 'Bearer test-upstream-key',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: question },
      ],
    });
  });

  it('when the input is a list of items, then messages are derived from messages, function calls and their outputs, and the question is the last user text', async () => {
    const response = await client.responses.create({
      model: 'gpt-5-mini',
      previous_response_id: 'resp_earlier',
      input: [
        { role: 'developer', content: 'Use tools.' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'Weather in ' },
            { type: 'input_text', text: 'Paris?' },
          ],
        },
        {
          type: 'function_call',
          call_id: 'call_1',
          name: 'get_weather',
          arguments: '{"city":"Paris"}',
        },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temp":21}' },
        { type: 'reasoning', id: 'rs_1', summary: [] },
      ],
      tools: TOOLS,
    });
    expect(response.output_text).toBe('Answer to: Weather in Paris?');
    expect(response.previous_response_id).toBe('resp_earlier');
    expect(response.tools).toEqual(TOOLS);
    expect(llm.fake.requests[0]?.messages).toEqual([
      { role: 'developer', content: 'Use tools.' },
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
    ]);
  });

  it('when a response is streamed, then the events come in the documented order, numbered from 0, and carry the answer', async () => {
    const question = 'Tell me about streams';
    const answer = `Answer to: ${question}`;
    const pieces = answer.match(/.{1,8}/gsu) ?? [];
    const stream = await client.responses.create({
      model: 'gpt-5-mini',
      input: question,
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...pieces.map(() => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const deltas = events.flatMap((event) =>
      event.type === 'response.output_text.delta' ? [event.delta] : [],
    );
    expect(deltas).toEqual(pieces);
    expect(events[0]).toMatchObject({
      type: 'response.created',
      response: { id: 'resp_fake_1', status: 'in_progress', output: [], usage: null },
    });
    expect(events[2]).toMatchObject({
      output_index: 0,
      item: {
        id: 'msg_fake_1',
        type: 'message',
        status: 'in_progress',
        role: 'assistant',
        content: [],
      },
    });
    expect(events.find((event) => event.type === 'response.output_text.done')).toMatchObject({
      item_id: 'msg_fake_1',
      output_index: 0,
      content_index: 0,
      text: answer,
    });
    const completed = events.at(-1);
    expect(completed).toMatchObject({
      type: 'response.completed',
      response: {
        id: 'resp_fake_1',
        status: 'completed',
        output: [{ type: 'message', content: [{ type: 'output_text', text: answer }] }],
        usage: { input_tokens: words(question), output_tokens: words(answer) },
      },
    });
    expect(llm.fake.requests[0]).toMatchObject({ endpoint: 'responses', stream: true });
  });

  it('when a stream is read off the wire, then each event names its type and no [DONE] line ends it', async () => {
    const response = await fetch(`${llm.fake.baseUrl}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-upstream-key' },
      body: JSON.stringify({ model: 'gpt-5-mini', input: 'hi', stream: true }),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const text = await response.text();
    expect(text).not.toContain('[DONE]');
    const blocks = text.split('\n\n').filter(Boolean);
    for (const block of blocks) {
      const [eventLine, dataLine, ...rest] = block.split('\n');
      expect(rest).toEqual([]);
      const data = JSON.parse((dataLine ?? '').replace(/^data: /, '')) as { type: string };
      expect(eventLine).toBe(`event: ${data.type}`);
    }
  });

  it('when the SDK’s stream helper is used, then finalResponse() gives the whole response', async () => {
    const stream = client.responses.stream({ model: 'gpt-5-mini', input: 'final please' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const response = await stream.finalResponse();
    expect(response.output_text).toBe('Answer to: final please');
    expect(deltas.join('')).toBe('Answer to: final please');
    expect(response.status).toBe('completed');
    expect(response.usage?.total_tokens).toBe(
      words('final please') + words('Answer to: final please'),
    );
  });

  it('when the behavior answers with tool calls, then the response has one function_call item each', async () => {
    llm.fake.setBehavior({ toolCalls: () => WEATHER_CALLS });
    const response = await client.responses.create({
      model: 'gpt-5-mini',
      input: 'Weather and time in Paris?',
      tools: TOOLS,
    });
    expect(response.output).toEqual([
      {
        id: 'fc_fake_1_0',
        type: 'function_call',
        status: 'completed',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '{"city":"Paris","unit":"celsius"}',
      },
      {
        id: 'fc_fake_1_1',
        type: 'function_call',
        status: 'completed',
        call_id: 'call_2',
        name: 'get_time',
        arguments: '{"zone":"Europe/Paris"}',
      },
    ]);
    expect(response.output_text).toBe('');
  });

  it('when the behavior answers with tool calls to a stream, then each call is added, its arguments arrive in pieces, and it is done', async () => {
    llm.fake.setBehavior({ toolCalls: () => WEATHER_CALLS });
    const stream = await client.responses.create({
      model: 'gpt-5-mini',
      input: 'Weather and time in Paris?',
      tools: TOOLS,
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const perCall = (call: FakeToolCall) => [
      'response.output_item.added',
      ...(call.arguments.match(/.{1,8}/gsu) ?? []).map(
        () => 'response.function_call_arguments.delta',
      ),
      'response.function_call_arguments.done',
      'response.output_item.done',
    ];
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      ...WEATHER_CALLS.flatMap(perCall),
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(events[2]).toMatchObject({
      output_index: 0,
      item: {
        id: 'fc_fake_1_0',
        type: 'function_call',
        status: 'in_progress',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '',
      },
    });
    const secondDeltas = events.flatMap((event) =>
      event.type === 'response.function_call_arguments.delta' && event.output_index === 1
        ? [event.delta]
        : [],
    );
    expect(secondDeltas.join('')).toBe(WEATHER_CALLS[1]?.arguments);

    const final = await client.responses
      .stream({ model: 'gpt-5-mini', input: 'Again?', tools: TOOLS })
      .finalResponse();
    expect(final.output).toMatchObject(
      WEATHER_CALLS.map((call) => ({
        type: 'function_call',
        status: 'completed',
        call_id: call.id,
        name: call.name,
        arguments: call.arguments,
      })),
    );
  });

  it('when the server has no Responses API, then the SDK gets a NotFoundError and the probe is recorded', async () => {
    llm.fake.setBehavior({ responsesApi: false });
    const error = await rejection(
      client.responses.create({ model: 'gpt-5-mini', input: 'hello?' }),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).error).toEqual({
      message: 'Not found: /v1/responses',
      type: 'invalid_request_error',
      param: null,
      code: 'not_found',
    });
    await llm.fake.waitForRequests(1);
    expect(llm.fake.requests).toHaveLength(1);
    expect(llm.fake.requests[0]).toMatchObject({ endpoint: 'responses', input: 'hello?' });
    expect(llm.fake.inFlight()).toBe(0);

    // Chat completions are still served by such a server.
    const completion = await client.chat.completions.create({
      model: 'gpt-5-mini',
      messages: [{ role: 'user', content: 'hello?' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Answer to: hello?');
    expect(llm.fake.requests[1]?.endpoint).toBe('chat');
  });

  it('when chat completions are asked for, then they work as before and are recorded with endpoint chat', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-5-mini',
      messages: [{ role: 'user', content: 'still there?' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Answer to: still there?');
    expect(completion.id).toBe('chatcmpl-1');
    const stream = await client.chat.completions.create({
      model: 'gpt-5-mini',
      messages: [{ role: 'user', content: 'streaming?' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Answer to: streaming?');
    expect(llm.fake.requests.map((request) => request.endpoint)).toEqual(['chat', 'chat']);
    expect(llm.fake.requests[0]?.messages).toEqual([{ role: 'user', content: 'still there?' }]);
  });

  it('when faults are set, then the Responses API fails as the chat completions do', async () => {
    llm.fake.setBehavior({ fault: 'rate_limit' });
    const limited = await rejection(client.responses.create({ model: 'gpt-5-mini', input: 'x' }));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers.get('retry-after')).toBe('7');

    llm.fake.setBehavior({ fault: 'context_too_long' });
    const tooLong = await rejection(client.responses.create({ model: 'gpt-5-mini', input: 'x' }));
    expect(tooLong).toBeInstanceOf(APIError);
    expect((tooLong as APIError).code).toBe('context_length_exceeded');

    llm.fake.setBehavior({ fault: 'empty_answer' });
    const empty = await client.responses.create({ model: 'gpt-5-mini', input: 'x' });
    expect(empty.output_text).toBe('');
    expect(empty.output).toHaveLength(1);

    llm.fake.setBehavior({ fault: 'null_answer' });
    expect((await client.responses.create({ model: 'gpt-5-mini', input: 'x' })).output).toEqual([]);

    llm.fake.setBehavior({ fault: 'cut_stream' });
    const cut = client.responses.stream({ model: 'gpt-5-mini', input: 'a long question to cut' });
    const deltas: string[] = [];
    cut.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const broken = await rejection(cut.finalResponse());
    expect(broken).toBeInstanceOf(Error);
    expect(deltas).toEqual(['Answer t']);
  });

  it('when the answer is cut at the length limit, then the response is incomplete (response.incomplete when streamed)', async () => {
    llm.fake.setBehavior({
      finishReason: 'length',
      usageDetails: { cachedTokens: 3, reasoningTokens: 5 },
    });
    const response = await client.responses.create({ model: 'gpt-5-mini', input: 'long one' });
    expect(response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      usage: {
        input_tokens_details: { cached_tokens: 3 },
        output_tokens_details: { reasoning_tokens: 5 },
      },
    });
    const stream = await client.responses.create({
      model: 'gpt-5-mini',
      input: 'long one',
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('response.incomplete');
  });

  it('when JSON is asked for through text.format, then the default answer is JSON', async () => {
    const response = await client.responses.create({
      model: 'gpt-5-mini',
      input: 'json please',
      text: { format: { type: 'json_object' } },
    });
    expect(JSON.parse(response.output_text)).toEqual({ answer: 'Answer to: json please' });
    expect(response.text).toEqual({ format: { type: 'json_object' } });
  });

  it('when requests are held, then a Responses request waits like a chat one until release', async () => {
    llm.fake.hold();
    const pending = client.responses.create({ model: 'gpt-5-mini', input: 'held?' });
    await llm.fake.waitForInFlight(1);
    expect(llm.fake.inFlight()).toBe(1);
    llm.fake.release();
    expect((await pending).output_text).toBe('Answer to: held?');
  });
});
