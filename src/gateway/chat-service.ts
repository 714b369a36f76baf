import {
  IdempotencyKeyReusedError,
  InvalidRequestError,
  LlmNotConfiguredError,
  ModelNotAllowedError,
  RequestInProgressError,
  StoredFailureError,
} from '../errors.js';
import type { Answer, ChatMessage, QuestionAnswer, Usage } from '../domain/question-answer.js';
import type { AnswerAttempts } from '../qa/answer-attempts.js';
import type { ConversationStore, QuestionStore } from '../qa/ports.js';
import { CompletionAssembler, type Json, answerMessageOf, finishReasonOf } from './completion.js';
import { ConversationState, textOf } from './conversation-state.js';
import type { ChatUpstream, ModelEntry } from './ports.js';

/** How long the upstream's model list is reused for GET /v1/models. */
const MODELS_CACHE_MS = 60_000;

/** The longest question text a row keeps for display and search (the request keeps it all). */
const QUESTION_MAX_CHARS = 1_000_000;

export interface ChatServiceDeps {
  repository: QuestionStore;
  conversations: ConversationStore;
  /** Undefined when no LLM is configured: requests are refused before anything is stored. */
  upstream: ChatUpstream | undefined;
  attempts: AnswerAttempts;
  /** Whether an exchange keeps its text unless the request says otherwise (STORE_TEXT). */
  storeText: boolean;
  /** When non-empty, the only models a request may name. */
  allowedModels: readonly string[];
  /** Stored with each pending row as its attempt's deadline. */
  askTimeoutMs: number;
}

/** A chat request as the HTTP layer hands it over: the body checked, the rest askbase's. */
export interface ChatCall {
  /** The request body: `model` and a non-empty `messages` are checked; the rest is the client's. */
  body: Json & { model: string; messages: ChatMessage[] };
  keyName?: string | undefined;
  idempotencyKey?: string | undefined;
  /** False: answer, but keep no text (default: STORE_TEXT). */
  store?: boolean | undefined;
  /** Join this conversation, whatever the messages say. */
  conversationId?: number | undefined;
}

/** What a streamed exchange reports as it goes; listeners must not throw. */
export interface ChatProgress {
  /** The exchange is stored as pending; the LLM is asked next. */
  created(pending: QuestionAnswer): void;
  /** The next chunk, as the client should see it. */
  chunk(chunk: Json): void;
}

export interface ChatResult {
  row: QuestionAnswer;
  /** The completion: the upstream's, or a stream's chunks put together. */
  completion: Json;
  /** True when an Idempotency-Key found an earlier exchange: nothing was asked. */
  replayed: boolean;
}

/**
 * Chat Completions through askbase: each exchange stored as one row in the ask lifecycle
 * (pending, then answered or failed; spooled while the database is away), priced, and
 * linked to the conversation it continues, storing only what is new.
 */
export class ChatService {
  private modelList: { until: number; models: Promise<ModelEntry[]> } | undefined;

  constructor(private readonly deps: ChatServiceDeps) {}

  async complete(call: ChatCall, progress?: ChatProgress): Promise<ChatResult> {
    const { upstream, allowedModels, storeText } = this.deps;
    if (!upstream) throw new LlmNotConfiguredError();
    const { body } = call;
    if (allowedModels.length > 0 && !allowedModels.includes(body.model)) {
      throw new ModelNotAllowedError(body.model);
    }
    const keepText = call.store ?? storeText;
    const { messages, ...params } = body;
    const state = keepText ? ConversationState.of(messages, call.keyName) : undefined;
    const follows = await this.follows(call, state);
    const idempotencyKey =
      call.idempotencyKey === undefined
        ? undefined
        : `${call.keyName ?? ''}:chat:${call.idempotencyKey}`;
    const question = questionOf(messages);
    const created = await this.deps.repository.createPending(keepText ? question : null, {
      idempotencyKey,
      keyName: call.keyName,
      deadlineMs: this.deps.askTimeoutMs,
      kind: 'chat',
      follows,
      request: { messages: messages.slice(follows?.end ?? 0), params },
    });
    if (!created.created) return this.replay(created.questionAnswer, question);
    const pending = created.questionAnswer;
    progress?.created(pending);
    const wantsUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const { row, answer } = await this.deps.attempts.run(
      pending,
      (signal) =>
        progress
          ? this.streamed(upstream, body, signal, (chunk) => {
              if (signal.aborted) return;
              const shown = wantsUsage ? chunk : withoutUsage(chunk);
              if (shown) progress.chunk(shown);
            })
          : this.whole(upstream, body, signal),
      (answered) => ({
        response: answered.completion,
        stateDigest: state?.after(answerMessageOf(answered.completion)) ?? null,
      }),
    );
    return { row: { ...row, question }, completion: answer.completion, replayed: false };
  }

  /** GET /v1/models: ALLOWED_MODELS when set, else the upstream's list. */
  async models(): Promise<ModelEntry[]> {
    const { upstream, allowedModels } = this.deps;
    if (allowedModels.length > 0) {
      return allowedModels.map((id) => ({ id, object: 'model', created: 0, owned_by: 'askbase' }));
    }
    if (!upstream) throw new LlmNotConfiguredError();
    const now = Date.now();
    if (!this.modelList || this.modelList.until < now) {
      const models = upstream.models();
      this.modelList = { until: now + MODELS_CACHE_MS, models };
      // A failure is not kept: the next request asks again.
      models.catch(() => (this.modelList = undefined));
    }
    return this.modelList.models;
  }

  /** The turn this request continues, found by its messages, or the conversation it names. */
  private async follows(call: ChatCall, state: ConversationState | undefined) {
    const candidates = state?.candidates() ?? [];
    if (candidates.length > 0) {
      const turns = await this.deps.conversations.findTurns(candidates.map((c) => c.digest));
      for (const candidate of candidates) {
        const turn = turns
          .filter((t) => t.stateDigest === candidate.digest)
          .sort((a, b) => b.id - a.id)[0];
        if (!turn) continue;
        const conversationId = turn.conversationId ?? turn.id;
        if (call.conversationId === undefined || call.conversationId === conversationId) {
          return { parentId: turn.id, conversationId, end: candidate.end };
        }
      }
    }
    if (call.conversationId === undefined) return undefined;
    // Named, but not continued by these messages: the turn joins it with all its messages.
    const turns = await this.deps.conversations.turns(call.conversationId);
    const first = turns[0];
    if (!first || first.keyName !== (call.keyName ?? null)) {
      throw new InvalidRequestError(
        `no conversation with id ${call.conversationId}`,
        'X-Askbase-Conversation-Id',
      );
    }
    return {
      parentId: null,
      conversationId: call.conversationId,
      end: 0,
      nameFirst: first.kind === 'ask' && first.conversationId === null,
    };
  }

  private async whole(upstream: ChatUpstream, body: Json, signal: AbortSignal) {
    const started = performance.now();
    const completion = await upstream.complete(body, signal);
    return answerOf(completion, body, Math.round(performance.now() - started), null);
  }

  private async streamed(
    upstream: ChatUpstream,
    body: Json,
    signal: AbortSignal,
    relay: (chunk: Json) => void,
  ) {
    const started = performance.now();
    const assembled = new CompletionAssembler();
    let ttftMs: number | null = null;
    // Usage is always asked for, so that every stored exchange has its cost.
    const streamOptions = { ...(body.stream_options as Json | undefined), include_usage: true };
    await upstream.stream(
      { ...body, stream_options: streamOptions },
      (chunk) => {
        ttftMs ??= Math.round(performance.now() - started);
        assembled.add(chunk);
        relay(chunk);
      },
      signal,
    );
    return answerOf(assembled.result(), body, Math.round(performance.now() - started), ttftMs);
  }

  /** A repeated Idempotency-Key: the first exchange's result, never a second LLM call. */
  private async replay(existing: QuestionAnswer, question: string): Promise<ChatResult> {
    if (existing.kind !== 'chat' || (existing.textStored && existing.question !== question)) {
      throw new IdempotencyKeyReusedError(existing.id);
    }
    if (existing.status === 'pending') throw new RequestInProgressError(existing.id);
    if (existing.status === 'failed' && existing.error) {
      throw new StoredFailureError(existing.id, existing.error);
    }
    const stored = await this.deps.conversations.exchange(existing.id);
    const completion = stored?.response ?? {
      object: 'chat.completion',
      model: existing.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: existing.answer },
          finish_reason: existing.finishReason,
        },
      ],
    };
    return { row: existing, completion, replayed: true };
  }
}

/** What the lifecycle stores of a completion. */
function answerOf(
  completion: Json,
  body: Json,
  latencyMs: number,
  ttftMs: number | null,
): Answer & { completion: Json } {
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
 * What a person looks for a chat exchange by: the text of its last user message (or, without
 * one, of its last message), well-formed and without NUL, as PostgreSQL text must be.
 */
function questionOf(messages: ChatMessage[]): string {
  const user = messages.findLast((m) => m.role === 'user');
  const last = user ?? messages.at(-1);
  let text = textOf(last).replaceAll('\u0000', '\uFFFD');
  if (text.length > QUESTION_MAX_CHARS) text = text.slice(0, QUESTION_MAX_CHARS);
  text = text.toWellFormed();
  return text.trim() === '' ? `(a ${last?.role ?? 'chat'} message without text)` : text;
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
