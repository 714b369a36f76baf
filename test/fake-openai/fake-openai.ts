/**
 * A fake OpenAI server: speaks the Chat Completions and Responses wire protocols (JSON and
 * server-sent events) on 127.0.0.1, with controllable latency and faults, so the real `openai`
 * SDK can be driven without a key or the internet. Self-contained (no relative imports, erasable
 * syntax only) so Node 24 can also run it directly:
 * `node test/fake-openai/fake-openai.ts --port 8080` (`--no-responses`: chat completions only).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | 'none'
  | 'rate_limit' // 429 with Retry-After
  | 'server_error' // 500
  | 'bad_request' // 400
  | 'hang' // accepts and never answers
  | 'malformed' // 200 with a body that is not JSON
  | 'empty_answer' // 200 with an empty message
  | 'null_answer' // 200 with content: null
  | 'no_choices' // 200 with choices: []
  | 'cut_stream' // streams the first piece of the answer, then drops the connection
  | 'context_too_long' // 400 context_length_exceeded, as OpenAI words it
  | 'unauthorized'; // 401 invalid_api_key (the caller's OpenAI key is wrong)

/** A tool call the fake answers with (see `Behavior.toolCalls`). */
export interface FakeToolCall {
  id: string;
  name: string;
  /** The function's arguments as JSON text, as OpenAI sends them. */
  arguments: string;
}

export interface Behavior {
  latencyMs: number;
  fault: Fault;
  /** Pause between the chunks of a streamed answer. */
  chunkDelayMs: number;
  /**
   * What the fake answers; defaults to a deterministic echo of the question (the last user
   * message's text), or, when the request asks for JSON (`response_format`), that echo as
   * `{"answer": "…"}`.
   */
  answer?: (question: string) => string;
  /** When it returns calls, the answer is these tool calls (finish_reason `tool_calls`). */
  toolCalls?: (request: ChatRequest) => FakeToolCall[] | undefined;
  /** The finish_reason of a text answer; `stop` unless set. */
  finishReason?: string;
  /** Adds `prompt_tokens_details.cached_tokens` and `completion_tokens_details.reasoning_tokens`. */
  usageDetails?: { cachedTokens?: number; reasoningTokens?: number };
  /**
   * Error messages and a malformed body quote the question, as some servers do: what askbase
   * must never write to its logs.
   */
  echo?: boolean;
  /** What `GET /models` lists; DEFAULT_MODELS unless set. */
  models?: string[];
  /**
   * Whether `POST …/responses` (the Responses API) is served; `true` unless set. When `false`
   * it answers 404 at once, as an OpenAI-compatible server with only chat completions does
   * (Ollama, vLLM); the request is still recorded (with `endpoint: 'responses'`), neither held
   * nor delayed.
   */
  responsesApi?: boolean;
}

/**
 * A message as the fake receives it. `/ask` sends string contents; a Chat Completions client may
 * send an array of parts, or null (an assistant turn of tool calls): `messageText` reads any.
 */
export interface ChatMessage {
  role: string;
  content: string;
  [field: string]: unknown;
}

/**
 * A request to the fake: the whole body as sent (unknown fields included), plus its headers.
 * A Responses API request keeps its own fields (`input`, `instructions`, `tools`,
 * `previous_response_id`, `store`, …) and gets `messages` derived from them, so behaviours,
 * `questionOf` and the rest read both kinds alike.
 */
export interface ChatRequest {
  model: string;
  /**
   * The messages as sent; on a Responses API request (with no `messages` of its own) derived:
   * `instructions` as a system message, then `input` (a string as a user message; message items
   * with their text, `function_call` items as assistant tool calls, `function_call_output`
   * items as tool messages, other items left out).
   */
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: { type?: string };
  /** Which API it came to: `chat` (`…/chat/completions`) or `responses` (`…/responses`). */
  endpoint?: 'chat' | 'responses';
  /** The Authorization header (the key the caller used). */
  authorization: string | undefined;
  /** Every header of the request, lower-cased names. */
  headers: IncomingHttpHeaders;
  [field: string]: unknown;
}

export interface FakeOpenAI {
  url: string;
  /** Base URL for the SDK (`OPENAI_BASE_URL`). */
  baseUrl: string;
  requests: ChatRequest[];
  /** How many `GET /models` requests arrived since the last reset (they are not in `requests`). */
  modelListRequests(): number;
  /** Requests currently being handled (waiting out their latency). */
  inFlight(): number;
  /** Resolves once at least `count` requests are being handled at the same moment. */
  waitForInFlight(count: number): Promise<void>;
  /** Resolves once at least `count` requests have arrived since the last reset. */
  waitForRequests(count: number): Promise<void>;
  /**
   * Holds every request that arrives from now on (it counts as in flight) until `release()`,
   * so a test can act while asks are certainly waiting on the LLM, however slow the machine.
   */
  hold(): void;
  /** Lets the held requests go on (latency and faults still apply), and stops holding. */
  release(): void;
  setBehavior(behavior: Partial<Behavior> | ((request: ChatRequest) => Partial<Behavior>)): void;
  reset(): void;
  close(): Promise<void>;
}

export const defaultAnswer = (question: string) => `Answer to: ${question}`;

/** What `GET /models` lists unless `Behavior.models` says otherwise. */
export const DEFAULT_MODELS = ['gpt-5-mini', 'gpt-5', 'gpt-4.1-mini'];

/** The text of a message's content: a string, or the text parts of an array joined, or ''. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' &&
      part !== null &&
      (part as { type?: unknown }).type === 'text' &&
      typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join('');
}

/** The question the fake answers: the last user message's text (else the last message's). */
export function questionOf(request: Pick<ChatRequest, 'messages'>): string {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  const user = messages.findLast((message) => message?.role === 'user') ?? messages.at(-1);
  return messageText(user?.content);
}

/** Run standalone, the fake answers 500 to a question containing this. */
export const FAIL_MARKER = '[llm-fails]';

/** Run standalone, the fake takes five seconds to answer a question containing this. */
export const SLOW_MARKER = '[llm-slow]';

const DEFAULTS: Behavior = { latencyMs: 0, fault: 'none', chunkDelayMs: 0 };

export async function startFakeOpenAI(
  options: { port?: number; host?: string } = {},
): Promise<FakeOpenAI> {
  let choose: (request: ChatRequest) => Partial<Behavior> = () => ({});
  const requests: ChatRequest[] = [];
  let modelLists = 0;
  const hanging = new Set<ServerResponse>();
  let active = 0;
  let gate: { opened: Promise<void>; open: () => void } | undefined;
  const release = () => {
    gate?.open();
    gate = undefined;
  };
  // Tests wait on these events instead of polling within a time window.
  const waiters = new Set<{ ready: () => boolean; resolve: () => void }>();
  const notify = () => {
    for (const waiter of waiters) {
      if (waiter.ready()) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const waitUntil = (ready: () => boolean) =>
    new Promise<void>((resolve) => {
      if (ready()) return resolve();
      waiters.add({ ready, resolve });
    });

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && (path === '/models' || path === '/v1/models')) {
      return listModels(req, res);
    }
    const endpoint = path.endsWith('/chat/completions')
      ? 'chat'
      : path.endsWith('/responses')
        ? 'responses'
        : undefined;
    if (req.method !== 'POST' || !endpoint) {
      return json(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
    }
    const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    const request = {
      ...body,
      ...(endpoint === 'responses' &&
        !('messages' in body) && { messages: responsesMessages(body) }),
      endpoint,
      authorization: req.headers.authorization,
      headers: req.headers,
    } as ChatRequest;
    requests.push(request);
    const number = requests.length;
    const behavior: Behavior = { ...DEFAULTS, ...choose(request) };
    if (endpoint === 'responses' && behavior.responsesApi === false) {
      notify();
      return json(res, 404, {
        error: {
          message: 'Not found: /v1/responses',
          type: 'invalid_request_error',
          param: null,
          code: 'not_found',
        },
      });
    }
    const held = gate?.opened;
    active += 1;
    notify();
    try {
      if (held) await held;
      if (behavior.latencyMs > 0) await sleep(behavior.latencyMs);
      await respond(res, request, behavior, number);
    } finally {
      active -= 1;
    }
  }

  function listModels(req: IncomingMessage, res: ServerResponse) {
    modelLists += 1;
    const probe: ChatRequest = {
      model: '',
      messages: [],
      authorization: req.headers.authorization,
      headers: req.headers,
    };
    const behavior: Behavior = { ...DEFAULTS, ...choose(probe) };
    if (behavior.fault === 'server_error') {
      return json(res, 500, {
        error: { message: 'The server had an error', type: 'server_error' },
      });
    }
    return json(res, 200, {
      object: 'list',
      data: (behavior.models ?? DEFAULT_MODELS).map((id) => ({
        id,
        object: 'model',
        created: 0,
        owned_by: 'fake',
      })),
    });
  }

  /** Answers a request; `number` is its place in `requests` (for Responses API ids). */
  async function respond(
    res: ServerResponse,
    request: ChatRequest,
    behavior: Behavior,
    number: number,
  ) {
    const question = questionOf(request);
    const isResponses = request.endpoint === 'responses';
    const format = isResponses ? responsesFormat(request) : request.response_format?.type;
    const wantsJson = ['json_object', 'json_schema'].includes(format ?? '');
    const text = behavior.answer
      ? behavior.answer(question)
      : wantsJson
        ? JSON.stringify({ answer: defaultAnswer(question) })
        : defaultAnswer(question);
    const said = (message: string) =>
      behavior.echo ? `${message} (you asked: ${question})` : message;
    switch (behavior.fault) {
      case 'rate_limit':
        return json(
          res,
          429,
          { error: { message: said('Rate limit reached'), type: 'requests' } },
          {
            'retry-after': '7',
          },
        );
      case 'server_error':
        return json(res, 500, {
          error: { message: said('The server had an error'), type: 'server_error' },
        });
      case 'bad_request':
        return json(res, 400, {
          error: {
            message: said('Invalid model secret-internal-detail'),
            type: 'invalid_request_error',
          },
        });
      case 'context_too_long':
        return json(res, 400, {
          error: {
            message:
              "This model's maximum context length is 128000 tokens. However, your messages resulted in 130017 tokens. Please reduce the length of the messages.",
            type: 'invalid_request_error',
            param: 'messages',
            code: 'context_length_exceeded',
          },
        });
      case 'unauthorized':
        return json(res, 401, {
          error: {
            message: said('Incorrect API key provided: sk-fake***. secret-internal-detail'),
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        });
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        notify();
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(
          (isResponses
            ? '{"id": "resp_fake_broken", "object": "response", "output": ['
            : '{"id": "chatcmpl-broken", "choices": [') +
            (behavior.echo ? `"${question} broken` : ''),
        );
      default:
        break;
    }
    const calls = behavior.toolCalls?.(request);
    const toolCalls = calls && calls.length > 0 ? calls : undefined;
    const content = toolCalls
      ? null
      : behavior.fault === 'empty_answer'
        ? ''
        : behavior.fault === 'null_answer'
          ? null
          : text;
    const completionText = toolCalls
      ? toolCalls.map((call) => `${call.name} ${call.arguments}`).join(' ')
      : (content ?? '');
    const usage: Usage = {
      prompt_tokens: countTokens(question),
      completion_tokens: countTokens(completionText),
      total_tokens: countTokens(question) + countTokens(completionText),
      ...(behavior.usageDetails?.cachedTokens !== undefined && {
        prompt_tokens_details: { cached_tokens: behavior.usageDetails.cachedTokens },
      }),
      ...(behavior.usageDetails?.reasoningTokens !== undefined && {
        completion_tokens_details: { reasoning_tokens: behavior.usageDetails.reasoningTokens },
      }),
    };
    if (isResponses) {
      const response = responseOf(request, number, {
        text: content,
        toolCalls,
        noOutput: behavior.fault === 'null_answer' || behavior.fault === 'no_choices',
        incomplete: !toolCalls && behavior.finishReason === 'length',
        usage: {
          input_tokens: usage.prompt_tokens,
          input_tokens_details: { cached_tokens: behavior.usageDetails?.cachedTokens ?? 0 },
          output_tokens: usage.completion_tokens,
          output_tokens_details: {
            reasoning_tokens: behavior.usageDetails?.reasoningTokens ?? 0,
          },
          total_tokens: usage.total_tokens,
        },
      });
      if (request.stream) return streamResponse(res, response, behavior);
      return json(res, 200, response);
    }
    const finishReason = toolCalls ? 'tool_calls' : (behavior.finishReason ?? 'stop');
    if (request.stream) {
      return stream(res, request, content ?? '', toolCalls, finishReason, usage, behavior);
    }
    const message = toolCalls
      ? {
          role: 'assistant',
          content: null,
          tool_calls: toolCalls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        }
      : { role: 'assistant', content };
    return json(res, 200, {
      id: `chatcmpl-${requests.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      choices:
        behavior.fault === 'no_choices' ? [] : [{ index: 0, message, finish_reason: finishReason }],
      usage,
    });
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    modelListRequests: () => modelLists,
    inFlight: () => active + hanging.size,
    waitForInFlight: (count) => waitUntil(() => active + hanging.size >= count),
    waitForRequests: (count) => waitUntil(() => requests.length >= count),
    setBehavior(behavior) {
      choose = typeof behavior === 'function' ? behavior : () => behavior;
    },
    hold() {
      if (gate) return;
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { opened, open };
    },
    release,
    reset() {
      release();
      choose = () => ({});
      requests.length = 0;
      modelLists = 0;
    },
    async close() {
      release();
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

async function stream(
  res: ServerResponse,
  request: ChatRequest,
  text: string,
  toolCalls: FakeToolCall[] | undefined,
  finishReason: string,
  usage: Usage,
  behavior: Behavior,
) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const base = {
    id: 'chatcmpl-stream',
    object: 'chat.completion.chunk',
    created: 0,
    model: request.model,
  };
  const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  // A text answer in pieces of 8 characters; tool calls as OpenAI streams them: the first
  // chunk of a call has its index, id, type and name, the next ones pieces of its arguments.
  const deltas: Record<string, unknown>[] = toolCalls
    ? toolCalls.flatMap((call, index) => [
        {
          ...(index === 0 && { role: 'assistant', content: null }),
          tool_calls: [
            {
              index,
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: '' },
            },
          ],
        },
        ...(call.arguments.match(/.{1,8}/gsu) ?? []).map((piece) => ({
          tool_calls: [{ index, function: { arguments: piece } }],
        })),
      ])
    : (text.match(/.{1,8}/gsu) ?? []).map((piece) => ({ content: piece }));
  for (const delta of deltas) {
    send({ ...base, choices: [{ index: 0, delta, finish_reason: null }] });
    if (behavior.fault === 'cut_stream') {
      await sleep(20); // lets the piece reach the client first
      res.destroy();
      return;
    }
    if (behavior.chunkDelayMs > 0) await sleep(behavior.chunkDelayMs);
  }
  send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] });
  // Like OpenAI: usage comes in a last chunk with no choices, and only when asked for.
  if (request.stream_options?.include_usage) send({ ...base, choices: [], usage });
  res.end('data: [DONE]\n\n');
}

/** The text of Responses API content: a string, or its text parts joined, or ''. */
function responsesText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      if (typeof part !== 'object' || part === null) return '';
      const { type, text } = part as { type?: unknown; text?: unknown };
      return (type === 'input_text' || type === 'output_text' || type === 'text') &&
        typeof text === 'string'
        ? text
        : '';
    })
    .join('');
}

/** The messages a Responses API request amounts to (see `ChatRequest.messages`). */
function responsesMessages(body: Record<string, unknown>): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (typeof body.instructions === 'string') {
    messages.push({ role: 'system', content: body.instructions });
  }
  const input = body.input;
  if (typeof input === 'string') messages.push({ role: 'user', content: input });
  if (!Array.isArray(input)) return messages;
  for (const entry of input as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const item = entry as Record<string, unknown>;
    if ((item.type === undefined || item.type === 'message') && typeof item.role === 'string') {
      messages.push({ role: item.role, content: responsesText(item.content) });
    } else if (item.type === 'function_call') {
      messages.push({
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: item.call_id,
            type: 'function',
            function: { name: item.name, arguments: item.arguments },
          },
        ],
      });
    } else if (item.type === 'function_call_output') {
      messages.push({
        role: 'tool',
        tool_call_id: item.call_id,
        content: responsesText(item.output),
      });
    }
  }
  return messages;
}

/** The `text.format.type` of a Responses API request (its JSON mode), if any. */
function responsesFormat(request: ChatRequest): string | undefined {
  const text = request.text;
  if (typeof text !== 'object' || text === null) return undefined;
  const format = (text as { format?: unknown }).format;
  if (typeof format !== 'object' || format === null) return undefined;
  const type = (format as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

interface OutputText {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

interface MessageItem {
  id: string;
  type: 'message';
  status: 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}

interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: 'completed';
  call_id: string;
  name: string;
  arguments: string;
}

/** OpenAI's Response object (without `output_text`, which the SDK adds). */
interface ResponseObject {
  id: string;
  status: 'in_progress' | 'completed' | 'incomplete';
  incomplete_details: { reason: string } | null;
  output: (MessageItem | FunctionCallItem)[];
  usage: ResponsesUsage | null;
  [field: string]: unknown;
}

/** The Response to a Responses API request: a text message, or tool calls, or no output. */
function responseOf(
  request: ChatRequest,
  number: number,
  answer: {
    text: string | null;
    toolCalls: FakeToolCall[] | undefined;
    noOutput: boolean;
    incomplete: boolean;
    usage: ResponsesUsage;
  },
): ResponseObject {
  const output: (MessageItem | FunctionCallItem)[] = answer.toolCalls
    ? answer.toolCalls.map((call, index) => ({
        id: `fc_fake_${number}_${index}`,
        type: 'function_call',
        status: 'completed',
        call_id: call.id,
        name: call.name,
        arguments: call.arguments,
      }))
    : answer.noOutput
      ? []
      : [
          {
            id: `msg_fake_${number}`,
            type: 'message',
            // Cut short by max_output_tokens, OpenAI marks the message incomplete too.
            status: answer.incomplete ? 'incomplete' : 'completed',
            role: 'assistant',
            content: [
              { type: 'output_text', text: answer.text ?? '', annotations: [], logprobs: [] },
            ],
          },
        ];
  return {
    id: `resp_fake_${number}`,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: answer.incomplete ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: answer.incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: request.instructions ?? null,
    model: request.model,
    output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    store: request.store ?? true,
    temperature: request.temperature ?? 1,
    text: request.text ?? { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? 'disabled',
    usage: answer.usage,
    metadata: request.metadata ?? {},
  };
}

/**
 * Streams a Response as OpenAI does: `response.created`, `response.in_progress`, each output
 * item (added, its text or arguments in pieces of 8 characters, done), then
 * `response.completed` (or `response.incomplete`), each event numbered from 0; no `[DONE]`.
 */
async function streamResponse(res: ServerResponse, response: ResponseObject, behavior: Behavior) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sequence = 0;
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(
      `event: ${type}\ndata: ${JSON.stringify({ type, ...data, sequence_number: sequence++ })}\n\n`,
    );
  /** After a piece: drops the connection on `cut_stream` (returns true), else paces. */
  const afterPiece = async () => {
    if (behavior.fault === 'cut_stream') {
      await sleep(20); // lets the piece reach the client first
      res.destroy();
      return true;
    }
    if (behavior.chunkDelayMs > 0) await sleep(behavior.chunkDelayMs);
    return false;
  };
  const pending = {
    ...response,
    status: 'in_progress',
    incomplete_details: null,
    output: [],
    usage: null,
  };
  send('response.created', { response: pending });
  send('response.in_progress', { response: pending });
  for (const [index, item] of response.output.entries()) {
    if (item.type === 'message') {
      const text = item.content[0]?.text ?? '';
      const at = { item_id: item.id, output_index: index, content_index: 0 };
      send('response.output_item.added', {
        output_index: index,
        item: { ...item, status: 'in_progress', content: [] },
      });
      send('response.content_part.added', {
        ...at,
        part: { type: 'output_text', text: '', annotations: [] },
      });
      for (const piece of text.match(/.{1,8}/gsu) ?? []) {
        send('response.output_text.delta', { ...at, delta: piece, logprobs: [] });
        if (await afterPiece()) return;
      }
      send('response.output_text.done', { ...at, text, logprobs: [] });
      send('response.content_part.done', {
        ...at,
        part: { type: 'output_text', text, annotations: [] },
      });
    } else {
      const at = { item_id: item.id, output_index: index };
      send('response.output_item.added', {
        output_index: index,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      for (const piece of item.arguments.match(/.{1,8}/gsu) ?? []) {
        send('response.function_call_arguments.delta', { ...at, delta: piece });
        if (await afterPiece()) return;
      }
      send('response.function_call_arguments.done', {
        ...at,
        name: item.name,
        arguments: item.arguments,
      });
    }
    send('response.output_item.done', { output_index: index, item });
  }
  send(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', {
    response,
  });
  res.end();
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Run directly: a standalone fake for the compose end-to-end test and the benchmarks.
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const index = process.argv.indexOf(`--${name}`);
    return index === -1 ? undefined : process.argv[index + 1];
  };
  const fake = await startFakeOpenAI({
    port: Number(arg('port') ?? 8080),
    host: arg('host') ?? '127.0.0.1',
  });
  const latencyMs = Number(arg('latency-ms') ?? 0);
  // --no-responses: a server with only chat completions (404 to the Responses API).
  const responsesApi = !process.argv.includes('--no-responses');
  // A question that says FAIL_MARKER gets a 500, so end-to-end tests can mix in LLM failures;
  // one that says SLOW_MARKER takes five seconds, so they can act while it waits.
  fake.setBehavior((request) => ({
    latencyMs: questionOf(request).includes(SLOW_MARKER) ? 5_000 : latencyMs,
    responsesApi,
    ...(questionOf(request).includes(FAIL_MARKER) && { fault: 'server_error' }),
  }));
  console.log(`fake OpenAI listening on ${arg('host') ?? '127.0.0.1'}:${arg('port') ?? 8080}`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
