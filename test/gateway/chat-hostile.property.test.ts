import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isErrorCode } from '../../src/errors.js';
import { settledRow } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';

const paths = [
  '/v1/chat/completions',
  '/v1/models',
  '/v1/nowhere',
  '/v1/chat/completions?x=1',
  '/v1/responses',
  '/v1/responses/resp_nope',
  '/v1/responses/resp_nope/input_items?limit=abc&order=sideways',
  '/v1/responses/%00/input_items',
];
const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
const text = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.constantFrom('\u0000', '\ud800', 'a\udc00b', '😀', ''),
);
const message = fc.record(
  {
    role: fc.oneof(
      fc.constantFrom('user', 'assistant', 'system', 'tool', 'developer'),
      fc.jsonValue(),
    ),
    content: fc.oneof(
      text,
      fc.constant(null),
      fc.array(fc.record({ type: fc.constantFrom('text', 'image_url'), text }), { maxLength: 3 }),
      fc.jsonValue(),
    ),
    tool_calls: fc.jsonValue(),
    tool_call_id: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const chatBody = fc.record(
  {
    model: fc.oneof(fc.constant('gpt-5-mini'), fc.jsonValue()),
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.jsonValue()),
    stream: fc.oneof(fc.boolean(), fc.jsonValue()),
    stream_options: fc.jsonValue(),
    tools: fc.jsonValue(),
    some_new_parameter: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const part = fc.record(
  {
    type: fc.constantFrom('input_text', 'output_text', 'input_image', 'input_file', 'refusal'),
    text,
    image_url: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const item = fc.oneof(
  fc.record(
    {
      type: fc.option(fc.constantFrom('message'), { nil: undefined }),
      role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'developer'), fc.jsonValue()),
      content: fc.oneof(text, fc.array(part, { maxLength: 3 }), fc.jsonValue()),
    },
    { requiredKeys: ['role'] },
  ),
  fc.record(
    {
      type: fc.constantFrom(
        'function_call',
        'function_call_output',
        'reasoning',
        'web_search_call',
        'item_reference',
      ),
      call_id: fc.jsonValue(),
      name: fc.jsonValue(),
      arguments: fc.jsonValue(),
      output: fc.oneof(text, fc.jsonValue()),
      id: fc.jsonValue(),
    },
    { requiredKeys: ['type'] },
  ),
  fc.jsonValue(),
);
const responsesBody = fc.record(
  {
    model: fc.oneof(fc.constant('gpt-5-mini'), fc.jsonValue()),
    input: fc.oneof(text, fc.array(item, { maxLength: 4 }), fc.jsonValue()),
    instructions: fc.oneof(text, fc.jsonValue()),
    previous_response_id: fc.oneof(fc.constantFrom('resp_nope', ''), fc.jsonValue()),
    stream: fc.oneof(fc.boolean(), fc.jsonValue()),
    store: fc.oneof(fc.boolean(), fc.jsonValue()),
    tools: fc.oneof(
      fc.array(
        fc.record(
          {
            type: fc.constantFrom('function', 'web_search', 'custom'),
            name: text,
            parameters: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
      fc.jsonValue(),
    ),
    tool_choice: fc.jsonValue(),
    text: fc.jsonValue(),
    reasoning: fc.jsonValue(),
    background: fc.jsonValue(),
    max_output_tokens: fc.jsonValue(),
    include: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  chatBody.map((value) => JSON.stringify(value)),
  responsesBody.map((value) => JSON.stringify(value)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 100 }),
  fc.constant('{"__proto__": {"model": "x"}, "messages": [{"role": "user"}]}'),
);
const contentType = fc.constantFrom('application/json', 'text/plain', '');
const anyRequest = fc.record({
  method: fc.constantFrom(...methods),
  path: fc.constantFrom(...paths),
  contentType,
  body,
  conversation: fc.option(fc.constantFrom('1', 'abc', '0', '99999999999999999999'), {
    nil: undefined,
  }),
  store: fc.option(fc.constantFrom('false', 'true', 'maybe'), { nil: undefined }),
});
// Most of the surface is a JSON POST of a chat or Responses body: half the runs go there.
const chatRequest = fc.record({
  method: fc.constant('POST'),
  path: fc.constant('/v1/chat/completions'),
  contentType: fc.constant('application/json'),
  body: chatBody.map((value) => JSON.stringify(value)),
  conversation: fc.constant(undefined),
  store: fc.option(fc.constantFrom('false', 'true'), { nil: undefined }),
});
const responsesRequest = fc.record({
  method: fc.constant('POST'),
  path: fc.constant('/v1/responses'),
  contentType: fc.constant('application/json'),
  body: responsesBody.map((value) => JSON.stringify(value)),
  conversation: fc.constant(undefined),
  store: fc.option(fc.constantFrom('false', 'true'), { nil: undefined }),
});

// Translated, a Responses body meets more of askbase's own code than forwarded.
describe.each(['auto', 'translate'])('hostile input on /v1 (RESPONSES_API=%s)', (mode) => {
  const suite = useAskbaseSuite({ env: { RESPONSES_API: mode } });
  const countRows = async () =>
    Number(
      (await suite.db.query<{ count: string }>('select count(*) from question_answers'))[0]?.count,
    );

  it('when random chat and Responses bodies, methods and headers arrive, then askbase answers no 5xx of its own, every error has OpenAI’s shape, and what it refuses stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyRequest, chatRequest, responsesRequest),
        async ({ method, path, contentType, body, conversation, store }) => {
          const headers: Record<string, string> = {};
          if (contentType) headers['content-type'] = contentType;
          if (conversation !== undefined) headers['x-askbase-conversation-id'] = conversation;
          if (store !== undefined) headers['x-askbase-store'] = store;
          const before = await countRows();

          const response = await fetch(`${suite.askbase.url}${path}`, {
            method,
            headers,
            body: method === 'GET' ? undefined : body,
          });
          const raw = await response.text();
          const what = `${method} ${path} ${body.slice(0, 200)} -> ${response.status} ${raw.slice(0, 300)}`;
          // A chat answered is an answer stored: whatever it held, its row is answered.
          const id = response.headers.get('x-askbase-id');
          if (response.status === 200 && id !== null) {
            const row = await settledRow<{ status: string }>(suite.askbase.url, Number(id));
            expect(row.status, what).toBe('answered');
          }
          if (response.status < 400) return;

          expect(response.headers.get('content-type'), what).toMatch(/^application\/json/);
          const { error } = JSON.parse(raw) as {
            error: { message: unknown; type: unknown; code: unknown };
          };
          expect(error, what).toMatchObject({
            message: expect.any(String),
            type: expect.any(String),
          });
          // A 5xx is the LLM's (the fake refusing what askbase forwarded), stored as failed.
          const code = typeof error.code === 'string' ? error.code : '';
          if (response.status >= 500) expect(code.startsWith('llm_'), what).toBe(true);
          // askbase's own refusals (its codes, not the LLM's relayed) store nothing.
          if (isErrorCode(code) && !code.startsWith('llm_')) {
            expect(await countRows(), what).toBe(before);
          }
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
