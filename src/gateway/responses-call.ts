import type { ResponsesApiMode } from '../config.js';
import type { Answer, Usage } from '../domain/question-answer.js';
import {
  InvalidRequestError,
  LlmBadResponseError,
  LlmRejectedRequestError,
  LlmUnavailableError,
} from '../errors.js';
import { CompletionAssembler, type Json } from './completion.js';
import type { ChatUpstream, ResponsesUpstream } from './ports.js';
import { finishReasonOfResponse, isObject, responseText } from './response-items.js';
import { TranslatedEvents } from './responses-stream.js';
import { checkTranslatable, toChatRequest, toResponse } from './responses-translation.js';

/** A response: what the lifecycle stores, and the Response the client gets. */
export type ResponseAnswer = Answer & { completion: Json };

/**
 * How /v1/responses reaches the LLM (RESPONSES_API): `auto` forwards to the upstream's own
 * /v1/responses until it answers 404, then translates to Chat Completions from then on;
 * `native` always forwards, `translate` always translates.
 */
export type { ResponsesApiMode };

/** What a streamed response reports as it goes; listeners must not throw. */
export interface ResponseProgress {
  /** The response is stored as pending. */
  created(pending: { id: number; conversationId: number | null }): void;
  /** The next event, as the client should see it. */
  event(event: Json): void;
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Passes a response's events on, holding them until the response is stored as pending (so the
 * headers can name its row) and holding its last event (completed or incomplete) until its
 * answer is recorded: a client told the response is complete can continue it at once, on any
 * replica.
 */
export class EventRelay {
  private held: Json[] | undefined = [];
  private last: Json | undefined;
  private sequence = -1;
  private sent = false;
  /** The answer's text so far: what a broken-off stream had given. */
  text = '';

  constructor(private readonly progress: ResponseProgress) {}

  push(event: Json): void {
    if (typeof event.sequence_number === 'number') this.sequence = event.sequence_number;
    if (event.type === 'response.output_text.delta' && typeof event.delta === 'string') {
      this.text += event.delta;
    }
    if (TERMINAL.has(String(event.type))) {
      this.last = event;
      return;
    }
    if (this.held) this.held.push(event);
    else this.emit(event);
  }

  private emit(event: Json): void {
    this.sent = true;
    this.progress.event(event);
  }

  /** The row is stored: what was held goes out, and the rest as it comes. */
  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const event of held) this.emit(event);
  }

  /** The answer is recorded: the response's last event goes out. */
  finish(): void {
    if (this.last && this.last.type !== 'response.failed') this.emit(this.last);
  }

  /**
   * The response failed: once events went out, OpenAI's `response.failed` ends them,
   * numbered on. Before any, nothing is sent: the failure is a plain error response.
   */
  fail(shell: Json, error: { code: string; message: string }): void {
    if (!this.sent) return;
    this.sequence += 1;
    this.emit({
      type: 'response.failed',
      sequence_number: this.sequence,
      response: { ...shell, status: 'failed', error },
    });
  }
}

/** One request to the LLM for a response, the way RESPONSES_API says. */
export class ResponsesRoute {
  private translating: boolean;

  constructor(
    private readonly native: ResponsesUpstream,
    private readonly chat: ChatUpstream,
    private readonly mode: ResponsesApiMode,
    /** Told once, when `auto` finds the upstream has no /v1/responses. */
    private readonly onTranslating: () => void = () => undefined,
  ) {
    this.translating = mode === 'translate';
  }

  /** Throws InvalidRequestError, before anything is stored, for what cannot be translated. */
  check(body: Json): void {
    if (this.translating) checkTranslatable(body);
  }

  /**
   * The response to `body` (the client's fields) over `items` (the whole conversation), with
   * `shell`'s id, streamed through `relay` when given.
   */
  async call(
    body: Json,
    items: Json[],
    shell: Json,
    signal: AbortSignal,
    relay?: EventRelay,
  ): Promise<ResponseAnswer> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let ttftMs: number | null = null;
    const onFirst = () => (ttftMs ??= elapsed());
    let response: Json;
    if (!this.translating) {
      try {
        response = await this.forward(body, items, shell, signal, relay, onFirst);
        return answerOf(response, body, elapsed(), ttftMs);
      } catch (error) {
        if (this.mode !== 'auto' || !isMissingEndpoint(error)) throw error;
        this.translating = true;
        this.onTranslating();
      }
    }
    response = await this.translate(body, items, shell, signal, relay, onFirst);
    return answerOf(response, body, elapsed(), ttftMs);
  }

  private async forward(
    body: Json,
    items: Json[],
    shell: Json,
    signal: AbortSignal,
    relay: EventRelay | undefined,
    onFirst: () => void,
  ): Promise<Json> {
    // askbase sends the conversation itself, not the id of its previous response.
    const request: Json = { ...body, input: items };
    delete request.previous_response_id;
    if (!relay) return asAskbase(await this.native.create(request, signal), shell);
    let last: Json | undefined;
    await this.native.stream(
      request,
      (event) => {
        onFirst();
        const shown = isObject(event.response)
          ? { ...event, response: asAskbase(event.response, shell) }
          : event;
        if (TERMINAL.has(String(event.type))) last = shown.response as Json;
        if (!signal.aborted) relay.push(shown);
      },
      signal,
    );
    if (!last) throw new LlmBadResponseError("the LLM's stream ended before its response did");
    return last;
  }

  private async translate(
    body: Json,
    items: Json[],
    shell: Json,
    signal: AbortSignal,
    relay: EventRelay | undefined,
    onFirst: () => void,
  ): Promise<Json> {
    const chatBody = translated(body, items);
    if (!relay) return toResponse(await this.chat.complete(chatBody, signal), shell);
    const events = new TranslatedEvents(shell, (event) => {
      if (!signal.aborted) relay.push(event);
    });
    const assembled = new CompletionAssembler();
    // Usage is always asked for, so that every stored response has its cost. The response is
    // said to be created once the LLM sends its first chunk, as a native upstream does: its
    // refusal before that is a plain error with its status, not a failed stream.
    await this.chat.stream(
      { ...chatBody, stream_options: { include_usage: true } },
      (chunk) => {
        onFirst();
        if (!assembled.started) events.start();
        assembled.add(chunk);
        events.chunk(chunk);
      },
      signal,
    );
    if (!assembled.started) events.start();
    return events.finish(assembled.result());
  }
}

/**
 * The chat request, or the LLM's refusal of what it cannot do: found out only now (the
 * upstream's 404 came first, or an earlier turn has an item Chat Completions lacks), it is
 * the attempt's outcome, recorded as failed and relayed as a 400 in OpenAI's shape.
 */
function translated(body: Json, items: Json[]): Json {
  try {
    return toChatRequest(body, items);
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    throw new LlmRejectedRequestError(400, {
      error: {
        message: error.message,
        type: 'invalid_request_error',
        param: error.details.param ?? null,
        code: 'unsupported_by_upstream',
      },
    });
  }
}

/** A 404 (or 405) that is about the path, not about a model the upstream does not know. */
function isMissingEndpoint(error: unknown): boolean {
  if (!(error instanceof LlmRejectedRequestError)) return false;
  if (error.upstreamStatus !== 404 && error.upstreamStatus !== 405) return false;
  const detail = error.upstreamBody.error;
  return !(isObject(detail) && detail.code === 'model_not_found');
}

/** The upstream's Response under askbase's id: the one a client names it by again. */
function asAskbase(response: Json, shell: Json): Json {
  return { ...response, id: shell.id, previous_response_id: shell.previous_response_id };
}

/** What the lifecycle stores of a Response; a failed one is the LLM's failure. */
function answerOf(
  response: Json,
  body: Json,
  latencyMs: number,
  ttftMs: number | null,
): ResponseAnswer {
  if (response.status === 'failed') {
    const error = isObject(response.error) ? response.error : {};
    throw new LlmUnavailableError(
      `the LLM failed the response${typeof error.code === 'string' ? ` (${error.code})` : ''}`,
    );
  }
  return {
    text: responseText(response),
    model:
      typeof response.model === 'string' && response.model !== ''
        ? response.model
        : String(body.model),
    usage: usageOf(response.usage),
    latencyMs,
    finishReason: finishReasonOfResponse(response),
    ttftMs,
    completion: response,
  };
}

function usageOf(raw: unknown): Usage | null {
  if (!isObject(raw)) return null;
  const { input_tokens: input, output_tokens: output, total_tokens: total } = raw;
  if (typeof input !== 'number' || typeof output !== 'number') return null;
  const cached = isObject(raw.input_tokens_details)
    ? raw.input_tokens_details.cached_tokens
    : undefined;
  const reasoning = isObject(raw.output_tokens_details)
    ? raw.output_tokens_details.reasoning_tokens
    : undefined;
  return {
    promptTokens: input,
    completionTokens: output,
    totalTokens: typeof total === 'number' ? total : input + output,
    cachedPromptTokens: typeof cached === 'number' ? cached : undefined,
    reasoningTokens: typeof reasoning === 'number' ? reasoning : undefined,
  };
}
