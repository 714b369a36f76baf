import { sql } from 'drizzle-orm';
import OpenAI, { APIError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/index.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODELS } from '../fake-openai/fake-openai.js';
import { BOTH_DATABASES, unique } from '../helpers/each-database.js';
import { expectOk, settledRow } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { waitFor } from '../helpers/wait-for.js';

/** askbase's own key for the LLM: the fake must see it, never the client's. */
const UPSTREAM_KEY = `test-upstream-${crypto.randomUUID()}`;

/** A stored chat row as GET /qa/{id} returns it (the contract's fields). */
interface ChatRow {
  id: number;
  kind: string;
  question: string | null;
  answer: string | null;
  status: string;
  model: string | null;
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    cached_prompt_tokens: number | null;
    reasoning_tokens: number | null;
  } | null;
  cost_usd: number | null;
  finish_reason: string | null;
  ttft_ms: number | null;
  key_name: string | null;
  text_stored: boolean;
  conversation_id: number | null;
  parent_id: number | null;
  error: { code: string; message: string } | null;
}

interface Exchange {
  id: number;
  request: { model?: string; messages: ChatCompletionMessageParam[]; [field: string]: unknown };
  response: ChatCompletion;
  history_complete: boolean;
}

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const clientOf = (url: string, apiKey = 'client-key') =>
  new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });

/** The fake counts whitespace-separated words as tokens. */
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** gpt-5-mini's built-in price: $0.25 (cached $0.025) in, $2 out, per million tokens; exact. */
const gpt5MiniCost = (prompt: number, completion: number, cached = 0) =>
  ((prompt - cached) * 0.25 + cached * 0.025 + completion * 2) / 1_000_000;

const idOf = (response: Response) => Number(response.headers.get('x-askbase-id'));

/** The API error a call rejects with (failing the test if it resolves). */
async function apiError(call: Promise<unknown>): Promise<APIError> {
  const caught: unknown = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught).toBeInstanceOf(APIError);
  return caught as APIError;
}

/** Asserts OpenAI's error shape on a raw response and returns the error object. */
async function expectOpenAIError(response: Response, status: number) {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type'), text).toMatch(/^application\/json/);
  const body = JSON.parse(text) as OpenAIErrorBody;
  expect(body.error, text).toMatchObject({
    message: expect.any(String),
    type: expect.any(String),
  });
  expect(body.error.message.length).toBeGreaterThan(0);
  expect('param' in body.error && 'code' in body.error, text).toBe(true);
  expect(body.error.param === null || typeof body.error.param === 'string').toBe(true);
  expect(body.error.code === null || typeof body.error.code === 'string').toBe(true);
  expect(text).not.toMatch(/<html|\bat .+:\d+:\d+|stack/i);
  return { error: body.error, text };
}

function postChat(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

const WEATHER_TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city today',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
      },
    },
  },
];

describe.each(BOTH_DATABASES)(
  'POST /v1/chat/completions on $driver',
  { timeout: 120_000 },
  ({ database }) => {
    const suite = useAskbaseSuite({ database, env: { OPENAI_API_KEY: UPSTREAM_KEY } });
    const client = () => clientOf(suite.askbase.url);

    const row = (id: number) => settledRow<ChatRow>(suite.askbase.url, id);
    const exchange = async (id: number) => {
      await row(id);
      return expectOk<Exchange>(await fetch(`${suite.askbase.url}/qa/${id}/exchange`));
    };
    /** The stored row as JSON text, every column, to look for text that must not be there. */
    const rawRow = async (id: number) => {
      const result = await suite.askbase.database.db.execute(
        sql`select row_to_json(q)::text as row from question_answers q where id = ${id}`,
      );
      return (result as { rows: { row: string }[] }).rows[0]?.row ?? '';
    };

    it('when an answer is stored, then its text is kept once (the answer column, not again in the stored response), and the exchange reads back whole', async () => {
      const answer = unique('An answer kept once ');
      suite.fake.setBehavior({ answer: () => answer });
      const { data, response } = await client()
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: unique('Once? ') }],
        })
        .withResponse();
      const id = idOf(response);

      const read = await exchange(id);
      const stored = await rawRow(id);

      expect(read.response).toEqual(JSON.parse(JSON.stringify(data)));
      expect(stored.split(answer)).toHaveLength(2); // once: in the answer column
    });

    it('when a client asks for a completion, then it gets the upstream answer, and the row keeps it as a chat', async () => {
      const question = `What is the capital of ${unique('country')}?`;
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: question },
      ];

      const { data, response } = await client()
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages,
          metadata: { trace: 'chat-1' },
          some_new_param: 1,
        } as ChatCompletionCreateParamsNonStreaming)
        .withResponse();

      const answer = `Answer to: ${question}`;
      expect(data).toMatchObject({
        object: 'chat.completion',
        model: 'gpt-5-mini',
        choices: [
          { index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: words(question), completion_tokens: words(answer) },
      });
      const id = idOf(response);
      expect(id).toBeGreaterThan(0);
      expect(Number(response.headers.get('x-askbase-conversation-id'))).toBe(id);
      expect(suite.fake.requests).toHaveLength(1);
      expect(suite.fake.requests[0]).toMatchObject({
        model: 'gpt-5-mini',
        messages,
        metadata: { trace: 'chat-1' },
        some_new_param: 1,
        authorization: `Bearer ${UPSTREAM_KEY}`,
      });
      const stored = await row(id);
      expect(stored).toMatchObject({
        id,
        kind: 'chat',
        question,
        answer,
        status: 'answered',
        model: 'gpt-5-mini',
        finish_reason: 'stop',
        key_name: null,
        text_stored: true,
        ttft_ms: null,
        conversation_id: id,
        parent_id: null,
        error: null,
        usage: {
          prompt_tokens: words(question),
          completion_tokens: words(answer),
          total_tokens: words(question) + words(answer),
        },
      });
      expect(stored.cost_usd).toBeCloseTo(gpt5MiniCost(words(question), words(answer)), 12);
      const stored_exchange = await exchange(id);
      expect(stored_exchange).toMatchObject({
        id,
        request: { model: 'gpt-5-mini', messages, some_new_param: 1 },
        response: { choices: [{ message: { content: answer } }] },
        history_complete: true,
      });
    });

    it('when the upstream reports cached and reasoning tokens, then the row keeps them and prices cached tokens at the cached price', async () => {
      suite.fake.setBehavior({ usageDetails: { cachedTokens: 3, reasoningTokens: 2 } });
      const question = `Name the ${unique('planet')} closest to the sun please`;

      const { response } = await client()
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: question }],
        })
        .withResponse();

      const stored = await row(idOf(response));
      const completion = words(`Answer to: ${question}`);
      expect(stored.usage).toMatchObject({
        prompt_tokens: words(question),
        completion_tokens: completion,
        cached_prompt_tokens: 3,
        reasoning_tokens: 2,
      });
      expect(stored.cost_usd).toBeCloseTo(gpt5MiniCost(words(question), completion, 3), 12);
    });

    it('when a client streams with include_usage, then it gets the chunks and a usage chunk, and the row has usage, cost and ttft', async () => {
      const answer = 'Paris is the capital of France; the Seine runs through it.';
      suite.fake.setBehavior({ answer: () => answer });
      const question = unique('Where is Paris? ');

      const { data: stream, response } = await client()
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: question }],
          stream: true,
          stream_options: { include_usage: true },
        })
        .withResponse();
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);

      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(answer);
      expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'stop')).toBe(true);
      const usage = { prompt_tokens: words(question), completion_tokens: words(answer) };
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage });
      const id = idOf(response);
      const stored = await row(id);
      expect(stored).toMatchObject({
        kind: 'chat',
        question,
        answer,
        status: 'answered',
        finish_reason: 'stop',
        usage,
      });
      expect(stored.ttft_ms).toEqual(expect.any(Number));
      expect(stored.cost_usd).toBeCloseTo(
        gpt5MiniCost(usage.prompt_tokens, usage.completion_tokens),
        12,
      );
      expect((await exchange(id)).response).toMatchObject({
        object: 'chat.completion',
        choices: [{ message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
        usage,
      });
    });

    it('when a client streams without include_usage, then it gets no usage chunk, yet the row has usage and cost', async () => {
      const answer = 'Usage is counted even when nobody asks for it.';
      suite.fake.setBehavior({ answer: () => answer });
      const question = unique('Count me ');

      const { data: stream, response } = await client()
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: question }],
          stream: true,
        })
        .withResponse();
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);

      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(answer);
      expect(chunks.filter((chunk) => chunk.usage || chunk.choices.length === 0)).toEqual([]);
      // The fake sends usage only when asked: askbase asked for it on the client's behalf.
      expect(suite.fake.requests[0]?.stream_options).toEqual({ include_usage: true });
      const stored = await row(idOf(response));
      expect(stored.usage).toMatchObject({
        prompt_tokens: words(question),
        completion_tokens: words(answer),
      });
      expect(stored.cost_usd).toBeCloseTo(gpt5MiniCost(words(question), words(answer)), 12);
      expect(stored.ttft_ms).toEqual(expect.any(Number));
    });

    it('when a stream is read off the wire, then it is data events of chunks ending with [DONE]', async () => {
      const response = await postChat(
        suite.askbase.url,
        JSON.stringify({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: unique('Wire ') }],
          stream: true,
        }),
      );
      const text = await response.text();

      expect(response.status, text).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(idOf(response)).toBeGreaterThan(0);
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      const events = text.split('\n\n').filter(Boolean);
      for (const event of events.slice(0, -1)) {
        expect(event).toMatch(/^data: \{/);
        expect(JSON.parse(event.slice('data: '.length))).toMatchObject({
          object: 'chat.completion.chunk',
        });
      }
    });

    it('when a client uses tools over several turns, then each turn joins one conversation and keeps its tool calls', async () => {
      suite.fake.setBehavior({
        toolCalls: (request) => {
          if (request.messages.at(-1)?.role !== 'user') return undefined;
          const asked = request.messages.filter((message) => message.role === 'user').length;
          return asked === 1
            ? [
                { id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' },
                { id: 'call_lyon', name: 'get_weather', arguments: '{"city":"Lyon"}' },
              ]
            : [{ id: 'call_nice', name: 'get_weather', arguments: '{"city":"Nice"}' }];
        },
      });
      const first = unique('Is it warmer in Paris or in Lyon? ');
      const second = unique('And in Nice? ');
      const base = { model: 'gpt-5-mini', tools: WEATHER_TOOLS };

      // Turn 1: the model calls two tools.
      const m1: ChatCompletionMessageParam[] = [
        { role: 'system', content: 'You know the weather.' },
        { role: 'user', content: first },
      ];
      const t1 = await client()
        .chat.completions.create({ ...base, messages: m1 })
        .withResponse();
      const calls1 = t1.data.choices[0]?.message.tool_calls ?? [];
      expect(calls1.map((call) => call.id)).toEqual(['call_paris', 'call_lyon']);
      expect(t1.data.choices[0]?.finish_reason).toBe('tool_calls');

      // Turn 2: the tool results; the model answers.
      const m2: ChatCompletionMessageParam[] = [
        ...m1,
        t1.data.choices[0]!.message,
        { role: 'tool', tool_call_id: 'call_paris', content: '18 °C' },
        { role: 'tool', tool_call_id: 'call_lyon', content: '21 °C' },
      ];
      const t2 = await client()
        .chat.completions.create({ ...base, messages: m2 })
        .withResponse();
      expect(t2.data.choices[0]?.message.content).toBe(`Answer to: ${first}`);

      // Turn 3, streamed: a new question; the model calls a tool again.
      const m3: ChatCompletionMessageParam[] = [
        ...m2,
        t2.data.choices[0]!.message,
        { role: 'user', content: second },
      ];
      const t3 = await client()
        .chat.completions.create({ ...base, messages: m3, stream: true })
        .withResponse();
      const streamed: { id: string; name: string; arguments: string }[] = [];
      for await (const chunk of t3.data) {
        for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
          const entry = (streamed[call.index] ??= { id: '', name: '', arguments: '' });
          entry.id ||= call.id ?? '';
          entry.name ||= call.function?.name ?? '';
          entry.arguments += call.function?.arguments ?? '';
        }
      }
      expect(streamed).toEqual([
        { id: 'call_nice', name: 'get_weather', arguments: '{"city":"Nice"}' },
      ]);

      // Turn 4: the tool result; the model answers.
      const m4: ChatCompletionMessageParam[] = [
        ...m3,
        {
          role: 'assistant',
          content: null,
          tool_calls: streamed.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        },
        { role: 'tool', tool_call_id: 'call_nice', content: '24 °C' },
      ];
      const t4 = await client()
        .chat.completions.create({ ...base, messages: m4 })
        .withResponse();
      expect(t4.data.choices[0]?.message.content).toBe(`Answer to: ${second}`);

      const ids = [t1, t2, t3, t4].map((turn) => idOf(turn.response));
      const rows = await Promise.all(ids.map(row));
      expect(rows.map((r) => r.conversation_id)).toEqual(ids.map(() => ids[0]));
      expect(rows.map((r) => r.parent_id)).toEqual([null, ids[0], ids[1], ids[2]]);
      expect(rows.map((r) => r.finish_reason)).toEqual([
        'tool_calls',
        'stop',
        'tool_calls',
        'stop',
      ]);
      expect(rows.map((r) => r.answer)).toEqual([
        '',
        `Answer to: ${first}`,
        '',
        `Answer to: ${second}`,
      ]);
      expect(rows.map((r) => r.question)).toEqual([first, first, second, second]);
      for (const turn of [t1, t2, t3, t4]) {
        expect(Number(turn.response.headers.get('x-askbase-conversation-id'))).toBe(ids[0]);
      }
      const [e1, , e3, e4] = await Promise.all(ids.map(exchange));
      expect(e1?.response.choices[0]?.message.tool_calls?.map((call) => call.id)).toEqual([
        'call_paris',
        'call_lyon',
      ]);
      expect(e3?.response.choices[0]?.message.tool_calls).toEqual([
        {
          id: 'call_nice',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Nice"}' },
        },
      ]);
      expect(e4).toMatchObject({
        request: { model: 'gpt-5-mini', tools: WEATHER_TOOLS, messages: m4 },
        history_complete: true,
      });
      expect(e4?.request.messages).toEqual(m4);
      expect(suite.fake.requests.map((request) => request.messages)).toEqual([m1, m2, m3, m4]);
    });

    it('when a client asks for JSON output, then response_format reaches the LLM and the JSON answer comes back', async () => {
      const question = unique('Reply in JSON ');

      const { data, response } = await client()
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: question }],
          response_format: { type: 'json_object' },
        })
        .withResponse();

      expect(suite.fake.requests[0]?.response_format).toEqual({ type: 'json_object' });
      const content = data.choices[0]?.message.content ?? '';
      expect(JSON.parse(content)).toEqual({ answer: `Answer to: ${question}` });
      expect((await row(idOf(response))).answer).toBe(content);
    });

    it('when the client goes away mid-stream, then askbase reads the answer to its end and stores it with usage', async () => {
      const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
      suite.fake.setBehavior({ answer: () => answer, chunkDelayMs: 20 });
      const leaving = new AbortController();

      const { data: stream, response } = await client()
        .chat.completions.create(
          {
            model: 'gpt-5-mini',
            messages: [{ role: 'user', content: unique('Leaving early ') }],
            stream: true,
          },
          { signal: leaving.signal },
        )
        .withResponse();
      const id = idOf(response);
      for await (const chunk of stream) {
        expect(chunk.choices[0]?.delta.content).toBeTruthy();
        break;
      }
      leaving.abort();

      const stored = await waitFor(
        async () => {
          const current = await row(id);
          return current.status === 'pending' ? undefined : current;
        },
        { intervalMs: 20, what: 'the stream to be stored' },
      );
      expect(stored).toMatchObject({ status: 'answered', answer, finish_reason: 'stop' });
      expect(stored.usage).toMatchObject({ completion_tokens: words(answer) });
    });

    it('when the same Idempotency-Key is sent twice, then the LLM is called once and the same response comes back', async () => {
      const key = `chat-${crypto.randomUUID()}`;
      const body = {
        model: 'gpt-5-mini',
        messages: [{ role: 'user' as const, content: unique('Only once ') }],
      };
      const send = () =>
        client()
          .chat.completions.create(body, { headers: { 'Idempotency-Key': key } })
          .withResponse();

      const first = await send();
      const second = await send();

      expect(suite.fake.requests).toHaveLength(1);
      expect(idOf(second.response)).toBe(idOf(first.response));
      expect(second.data).toEqual(first.data);
    });

    it.each([
      ['answered as JSON', false],
      ['streamed', true],
    ])(
      'when X-Askbase-Store is false and it is %s, then the client gets the answer and the row keeps no text',
      async (_, stream) => {
        const question = unique('private chat question ');
        suite.fake.setBehavior({ answer: () => `Private chat answer to ${question}` });
        const headers = { 'X-Askbase-Store': 'false' };
        const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: question }];

        let text: string;
        let id: number;
        if (stream) {
          const { data, response } = await client()
            .chat.completions.create({ model: 'gpt-5-mini', messages, stream: true }, { headers })
            .withResponse();
          text = '';
          for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
          id = idOf(response);
        } else {
          const { data, response } = await client()
            .chat.completions.create({ model: 'gpt-5-mini', messages }, { headers })
            .withResponse();
          text = data.choices[0]?.message.content ?? '';
          id = idOf(response);
        }

        expect(text).toBe(`Private chat answer to ${question}`);
        const stored = await row(id);
        expect(stored).toMatchObject({
          kind: 'chat',
          status: 'answered',
          text_stored: false,
          question: null,
          answer: null,
        });
        expect(stored.usage).not.toBeNull();
        const raw = await rawRow(id);
        expect(raw).toContain(`"id":${id}`);
        expect(raw).not.toContain('private chat question');
        expect(raw).not.toContain('Private chat answer');
      },
    );

    it('when a client lists models, then it gets the upstream models in OpenAI shape', async () => {
      const first = await client().models.list();
      const second = await client().models.list();

      expect(first.data.map((model) => model.id)).toEqual(DEFAULT_MODELS);
      expect(first.data[0]).toEqual({
        id: DEFAULT_MODELS[0],
        object: 'model',
        created: expect.any(Number),
        owned_by: expect.any(String),
      });
      expect(second.data).toEqual(first.data);
      // Cached for 60 s: at most one of the two lists (none if an earlier one is cached) went upstream.
      expect(suite.fake.modelListRequests()).toBeLessThanOrEqual(1);
    });

    it('when questions are listed by kind, then a chat is under kind=chat and not under kind=ask', async () => {
      const { response } = await client()
        .chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: unique('Kind ') }],
        })
        .withResponse();
      const id = idOf(response);

      const chats = await expectOk<ChatRow[]>(
        await fetch(`${suite.askbase.url}/qas?kind=chat&limit=1000`),
      );
      const asks = await expectOk<ChatRow[]>(
        await fetch(`${suite.askbase.url}/qas?kind=ask&limit=1000`),
      );

      expect(chats.map((qa) => qa.id)).toContain(id);
      expect(chats.every((qa) => qa.kind === 'chat')).toBe(true);
      expect(asks.map((qa) => qa.id)).not.toContain(id);
    });

    it('when the export and the stats are narrowed by kind, then they count and carry only that kind', async () => {
      const word = unique('kindstats');
      await client().chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: `${word} chat` }],
      });
      await fetch(`${suite.askbase.url}/ask`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ question: `${word} ask` }),
      });
      const stats = async (kind: string) =>
        expectOk<{ totals: { asks: number } }>(
          await fetch(`${suite.askbase.url}/stats?kind=${kind}`),
        );
      const all = await expectOk<{ totals: { asks: number } }>(
        await fetch(`${suite.askbase.url}/stats`),
      );

      const [chats, asks] = [await stats('chat'), await stats('ask')];
      const exported = await (
        await fetch(`${suite.askbase.url}/qas/export?kind=chat&q=${encodeURIComponent(word)}`)
      ).text();

      expect(chats.totals.asks + asks.totals.asks).toBe(all.totals.asks);
      expect(chats.totals.asks).toBeGreaterThan(0);
      const lines = exported
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as ChatRow);
      expect(lines.map((row) => [row.kind, row.question])).toEqual([['chat', `${word} chat`]]);
    });
  },
);

describe('errors of POST /v1/chat/completions', () => {
  const suite = useAskbaseSuite({ env: { OPENAI_API_KEY: UPSTREAM_KEY } });
  const client = () => clientOf(suite.askbase.url);
  const rowsAsking = (question: string) =>
    suite.db.query<{ status: string; error_code: string | null; kind: string }>(
      'select status, error_code, kind from question_answers where question = $1',
      [question],
    );

  it('when the LLM answers with NUL and a lone surrogate, then the answer is stored with U+FFFD in their place, and read back whole', async () => {
    const question = unique('Odd characters ');
    suite.fake.setBehavior({ answer: () => 'a\u0000b\ud800c' });

    const { response } = await client()
      .chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: question }],
      })
      .withResponse();
    const id = Number(response.headers.get('x-askbase-id'));

    const row = await settledRow<{ status: string; answer: string }>(suite.askbase.url, id);
    expect(row).toMatchObject({ status: 'answered', answer: 'a\uFFFDb\uFFFDc' });
    const exchange = await expectOk<{ response: ChatCompletion }>(
      await fetch(`${suite.askbase.url}/qa/${id}/exchange`),
    );
    expect(exchange.response.choices[0]?.message.content).toBe('a\uFFFDb\uFFFDc');
  });

  it('when the LLM’s stream breaks off, then the client’s stream ends with an error, and the row keeps what had arrived', async () => {
    const question = unique('Cut me off ');
    suite.fake.setBehavior({ fault: 'cut_stream', answer: () => 'A long answer that never ends.' });
    let received = '';

    const caught = await (async () => {
      const stream = await client().chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: question }],
        stream: true,
      });
      for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
    })().then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(caught).toBeInstanceOf(APIError);
    expect(received).not.toBe('');
    const [row] = await suite.db.query<{ status: string; error_code: string; answer: string }>(
      'select status, error_code, answer from question_answers where question = $1',
      [question],
    );
    expect(row).toEqual({ status: 'failed', error_code: 'llm_unavailable', answer: received });
  });

  it.each([
    ['there are no messages', { model: 'gpt-5-mini' }, 'messages'],
    ['messages is empty', { model: 'gpt-5-mini', messages: [] }, 'messages'],
    ['a message is not an object', { model: 'gpt-5-mini', messages: ['hi'] }, 'messages'],
    ['a message has no role', { model: 'gpt-5-mini', messages: [{ content: 'hi' }] }, 'messages'],
    ['there is no model', { messages: [{ role: 'user', content: 'hi' }] }, 'model'],
    ['the model is empty', { model: '', messages: [{ role: 'user', content: 'hi' }] }, 'model'],
  ])(
    'when %s, then 400 BadRequestError naming the parameter, and the LLM is not called',
    async (_, body, param) => {
      const error = await apiError(
        client().chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming),
      );

      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.status).toBe(400);
      // A message's own fault may be named more precisely (messages[0].role, …).
      expect(error.param).toMatch(new RegExp(`^${param}`));
      expect(error.type).toEqual(expect.any(String));
      expect(suite.fake.requests).toHaveLength(0);
    },
  );

  it.each([
    ['the body is not JSON', () => postChat(suite.askbase.url, '{"model": "gpt'), 400],
    ['the body is a JSON array', () => postChat(suite.askbase.url, '[]'), 400],
    [
      'the body is not declared JSON',
      () => postChat(suite.askbase.url, 'hello', { 'content-type': 'text/plain' }),
      415,
    ],
    ['the /v1 route does not exist', () => fetch(`${suite.askbase.url}/v1/nothing-here`), 404],
    ['the method is not allowed', () => fetch(`${suite.askbase.url}/v1/chat/completions`), 405],
  ])('when %s, then the error has OpenAI’s shape', async (_, send, status) => {
    await expectOpenAIError(await send(), status);
    expect(suite.fake.requests).toHaveLength(0);
  });

  it('when a validation error is read off the wire, then it is {error: {message, type, param, code}}', async () => {
    const { error } = await expectOpenAIError(
      await postChat(suite.askbase.url, JSON.stringify({ model: 'gpt-5-mini', messages: [] })),
      400,
    );
    expect(error.param).toBe('messages');
  });

  it('when the SDK calls an unknown /v1 route, then NotFoundError', async () => {
    const error = await apiError(client().get('/no-such-endpoint'));

    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('when the LLM rejects the request (400), then the client gets its status and body, and the row fails as llm_rejected_request', async () => {
    suite.fake.setBehavior({ fault: 'bad_request' });
    const question = unique('Rejected ');

    const error = await apiError(
      client().chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: question }],
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.error).toEqual({
      message: 'Invalid model secret-internal-detail',
      type: 'invalid_request_error',
    });
    expect(await rowsAsking(question)).toEqual([
      { status: 'failed', error_code: 'llm_rejected_request', kind: 'chat' },
    ]);
  });

  it('when the conversation is longer than the model’s context, then BadRequestError context_length_exceeded as the LLM said', async () => {
    suite.fake.setBehavior({ fault: 'context_too_long' });

    const error = await apiError(
      client().chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: unique('Too long ') }],
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe('context_length_exceeded');
    expect(error.param).toBe('messages');
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toContain('maximum context length');
  });

  it('when the LLM rate-limits askbase (429), then the client gets 429 with the LLM’s body', async () => {
    suite.fake.setBehavior({ fault: 'rate_limit' });

    const error = await apiError(
      client().chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: unique('Upstream busy ') }],
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.error).toEqual({ message: 'Rate limit reached', type: 'requests' });
  });

  it.each([
    ['answers 500', 503, 'server_error', false, 'llm_unavailable'],
    ['answers 500 to a stream', 503, 'server_error', true, 'llm_unavailable'],
    ['refuses askbase’s own key (401)', 502, 'unauthorized', false, 'llm_bad_response'],
    ['answers with a body that is not JSON', 502, 'malformed', false, 'llm_bad_response'],
  ] as const)(
    'when the LLM %s, then InternalServerError %i without the LLM’s text, and the row is failed',
    async (_, status, fault, stream, code) => {
      suite.fake.setBehavior({ fault });
      const question = unique('Upstream trouble ');

      const error = await apiError(
        client().chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: question }],
          stream,
        }),
      );

      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error.status).toBe(status);
      expect(error.code).toBe(code);
      const text = JSON.stringify(error.error);
      expect(text).not.toContain('The server had an error');
      expect(text).not.toContain('secret-internal-detail');
      expect(text).not.toContain(UPSTREAM_KEY);
      expect(await rowsAsking(question)).toEqual([
        { status: 'failed', error_code: code, kind: 'chat' },
      ]);
    },
  );
});

describe('POST /v1/chat/completions with API keys and ALLOWED_MODELS', () => {
  const suite = useAskbaseSuite({
    env: {
      API_KEYS: 'alice:key-a-123456789012',
      ALLOWED_MODELS: 'gpt-5-mini,gpt-5',
    },
  });
  const ALICE = 'key-a-123456789012';
  const asAlice = { authorization: `Bearer ${ALICE}` };

  it('when no key is sent, then 401 in OpenAI’s shape and the LLM is not called', async () => {
    const response = await postChat(
      suite.askbase.url,
      JSON.stringify({ model: 'gpt-5-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    );

    await expectOpenAIError(response, 401);
    expect(suite.fake.requests).toHaveLength(0);
  });

  it('when a wrong key is sent, then AuthenticationError and the LLM is not called', async () => {
    const error = await apiError(
      clientOf(suite.askbase.url, 'key-z-wrong-000000').chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(suite.fake.requests).toHaveLength(0);
  });

  it('when a key is right, then the row names the key, and the LLM gets askbase’s key, not the client’s', async () => {
    const { response } = await clientOf(suite.askbase.url, ALICE)
      .chat.completions.create({
        model: 'gpt-5',
        messages: [{ role: 'user', content: unique('Keyed chat ') }],
      })
      .withResponse();

    const stored = await settledRow<ChatRow>(suite.askbase.url, idOf(response), asAlice);
    expect(stored).toMatchObject({ kind: 'chat', key_name: 'alice', model: 'gpt-5' });
    expect(JSON.stringify(suite.fake.requests[0]?.headers)).not.toContain(ALICE);
  });

  it('when a model is not allowed, then 400 model_not_allowed on param model, nothing stored, no LLM call', async () => {
    const question = unique('Forbidden model ');

    const error = await apiError(
      clientOf(suite.askbase.url, ALICE).chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: question }],
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe('model');
    expect(error.code).toBe('model_not_allowed');
    expect(suite.fake.requests).toHaveLength(0);
    expect(
      await suite.db.query('select id from question_answers where question = $1', [question]),
    ).toEqual([]);
  });

  it('when models are listed, then exactly ALLOWED_MODELS come back', async () => {
    const models = await clientOf(suite.askbase.url, ALICE).models.list();

    expect(models.data.map((model) => model.id).sort()).toEqual(['gpt-5', 'gpt-5-mini']);
    for (const model of models.data) expect(model.object).toBe('model');
  });
});

describe('POST /v1/chat/completions with RATE_LIMIT_MAX=1 and an unreachable LLM', () => {
  const suite = useAskbaseSuite({ llm: 'unreachable', env: { RATE_LIMIT_MAX: '1' } });

  it('when the LLM cannot be reached, then 502 or 503 without detail; and when the window’s one request is spent, then RateLimitError', async () => {
    const client = clientOf(suite.askbase.url);
    const body = {
      model: 'gpt-5-mini',
      messages: [{ role: 'user' as const, content: unique('Anyone upstream? ') }],
    };

    const unreachable = await apiError(client.chat.completions.create(body));
    const limited = await apiError(client.chat.completions.create(body));

    expect(unreachable).toBeInstanceOf(OpenAI.InternalServerError);
    expect([502, 503]).toContain(unreachable.status);
    expect(JSON.stringify(unreachable.error)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  });
});

describe('POST /v1/chat/completions with a short ASK_TIMEOUT_MS and a small CHAT_BODY_LIMIT_BYTES', () => {
  const suite = useAskbaseSuite({ env: { ASK_TIMEOUT_MS: '300', CHAT_BODY_LIMIT_BYTES: '4096' } });

  it('when the LLM does not answer within the deadline, then 504 llm_timeout, plain or streamed, and the row is failed', async () => {
    suite.fake.setBehavior({ fault: 'hang' });
    const client = clientOf(suite.askbase.url);
    const body = {
      model: 'gpt-5-mini',
      messages: [{ role: 'user' as const, content: unique('Too slow? ') }],
    };

    const plain = await apiError(client.chat.completions.create(body));
    const streamed = await apiError(client.chat.completions.create({ ...body, stream: true }));

    for (const error of [plain, streamed]) {
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error.status).toBe(504);
      expect(error.code).toBe('llm_timeout');
      const id = (error.error as { askbase_id?: number }).askbase_id;
      expect(await settledRow(suite.askbase.url, id!)).toMatchObject({
        status: 'failed',
        error: { code: 'llm_timeout' },
      });
    }
  });

  it('when the body is larger than CHAT_BODY_LIMIT_BYTES, then 413 in OpenAI’s shape and nothing is stored or asked', async () => {
    const client = clientOf(suite.askbase.url);

    const error = await apiError(
      client.chat.completions.create({
        model: 'gpt-5-mini',
        messages: [{ role: 'user', content: 'x'.repeat(5000) }],
      }),
    );

    expect(error.status).toBe(413);
    expect(error.code).toBe('payload_too_large');
    expect(suite.fake.requests).toHaveLength(0);
  });
});
