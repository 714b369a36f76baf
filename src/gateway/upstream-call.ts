import type { Answer, Usage } from '../domain/question-answer.js';
import { CompletionAssembler, type Json, answerMessageOf, finishReasonOf } from './completion.js';
import { textOf } from './conversation-state.js';
import type { ChatUpstream } from './ports.js';

/** A chat answer: what the lifecycle stores, and the completion the client gets. */
export type ChatAnswer = Answer & { completion: Json };

/** What a streamed exchange reports as it goes; listeners must not throw. */
export interface ChatProgress {
  /** The exchange is stored as pending. */
  created(pending: { id: number; conversationId: number | null }): void;
  /** The next chunk, as the client should see it. */
  chunk(chunk: Json): void;
}

/**
 * Passes a stream's chunks on as the client asked for them (no usage unless asked: askbase
 * always asks for it), holding them back until the exchange is stored as pending, so the
 * response's headers can name its row.
 */
export class ChunkRelay {
  private held: Json[] | undefined = [];
  /** The first choice's text so far: what a broken-off stream had given. */
  text = '';

  constructor(
    private readonly progress: ChatProgress,
    private readonly wantsUsage: boolean,
  ) {}

  push(chunk: Json): void {
    const first = Array.isArray(chunk.choices) ? (chunk.choices[0] as Json | undefined) : undefined;
    const delta =
      first && typeof first === 'object' ? (first.delta as Json | undefined) : undefined;
    if (delta && typeof delta.content === 'string') {
      this.text += delta.content;
    }
    const shown = this.wantsUsage ? chunk : withoutUsage(chunk);
    if (!shown) return;
    if (this.held) this.held.push(shown);
    else this.progress.chunk(shown);
  }

  /** The row is stored: what was held goes out, and the rest as it comes. */
  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const chunk of held) this.progress.chunk(chunk);
  }
}

/** One call to the upstream for a chat request: whole, or streamed through `relay`. */
export async function callUpstream(
  upstream: ChatUpstream,
  body: Json,
  signal: AbortSignal,
  relay?: ChunkRelay,
): Promise<ChatAnswer> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (!relay) return answerOf(await upstream.complete(body, signal), body, elapsed(), null);
  const assembled = new CompletionAssembler();
  let ttftMs: number | null = null;
  // Usage is always asked for, so that every stored exchange has its cost.
  const streamOptions = { ...(body.stream_options as Json | undefined), include_usage: true };
  await upstream.stream(
    { ...body, stream_options: streamOptions },
    (chunk) => {
      ttftMs ??= elapsed();
      assembled.add(chunk);
      if (!signal.aborted) relay.push(chunk);
    },
    signal,
  );
  return answerOf(assembled.result(), body, elapsed(), ttftMs);
}

/** What the lifecycle stores of a completion. */
function answerOf(
  completion: Json,
  body: Json,
  latencyMs: number,
  ttftMs: number | null,
): ChatAnswer {
  const message = answerMessageOf(completion);
  return {
    text: textOf(message),
    model:
      typeof completion.model === 'string' && completion.model !== ''
        ? completion.model
        : String(body.model),
    usage: usageOf(completion.usage),
    latencyMs,
    finishReason: finishReasonOf(completion),
    ttftMs,
    completion,
  };
}

function usageOf(raw: unknown): Usage | null {
  const usage = raw as {
    prompt_tokens?: unknown;
    completion_tokens?: unknown;
    total_tokens?: unknown;
    prompt_tokens_details?: { cached_tokens?: unknown } | null;
    completion_tokens_details?: { reasoning_tokens?: unknown } | null;
  } | null;
  if (
    !usage ||
    typeof usage.prompt_tokens !== 'number' ||
    typeof usage.completion_tokens !== 'number'
  ) {
    return null;
  }
  const count = (value: unknown) => (typeof value === 'number' ? value : undefined);
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    totalTokens: count(usage.total_tokens) ?? usage.prompt_tokens + usage.completion_tokens,
    cachedPromptTokens: count(usage.prompt_tokens_details?.cached_tokens),
    reasoningTokens: count(usage.completion_tokens_details?.reasoning_tokens),
  };
}

/**
 * A chunk as a client that did not ask for usage sees it: no usage-only last chunk, and no
 * `usage: null` on the others.
 */
function withoutUsage(chunk: Json): Json | undefined {
  if (!('usage' in chunk)) return chunk;
  if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return undefined;
  const rest = { ...chunk };
  delete rest.usage;
  return rest;
}
