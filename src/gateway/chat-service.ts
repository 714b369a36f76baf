import { createHash } from 'node:crypto';
import {
  IdempotencyKeyReusedError,
  LlmNotConfiguredError,
  ModelNotAllowedError,
  RequestInProgressError,
  StoredFailureError,
} from '../errors.js';
import type { ChatMessage, QuestionAnswer } from '../domain/question-answer.js';
import { displayedQuestion } from '../domain/storable-text.js';
import type { AnswerAttempts } from '../qa/answer-attempts.js';
import type { ConversationStore, CreateCachedOptions, QuestionStore } from '../qa/ports.js';
import { type Json, answerMessageOf } from './completion.js';
import { ConversationFinder } from './conversation-finder.js';
import { ConversationState, textOf } from './conversation-state.js';
import type { ChatUpstream, ModelEntry } from './ports.js';
import { type ChatAnswer, type ChatProgress, ChunkRelay, callUpstream } from './upstream-call.js';
import { type EarlyCall, EarlyCalls } from './early-calls.js';

export type { ChatProgress };

/** How long the upstream's model list is reused for GET /v1/models. */
const MODELS_CACHE_MS = 60_000;

/** Fields that say how to deliver or label an answer, not what to answer. */
const NOT_IN_CACHE_KEY = ['stream', 'stream_options', 'user', 'metadata', 'store'] as const;

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
  /** How long an answer may answer an identical request again (CACHE_TTL_SECONDS; 0: off). */
  cacheTtlSeconds: number;
  /** Counts cache lookups. */
  cacheLookups: (result: 'hit' | 'miss') => void;
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
  /** False: ask the LLM even when the answer cache holds an answer. */
  cache?: boolean | undefined;
}

export interface ChatResult {
  row: QuestionAnswer;
  /** The completion: the upstream's, or a stream's chunks put together. */
  completion: Json;
  /**
   * True when the answer came from the store (the exchange an Idempotency-Key names, or the
   * answer cache): nothing was asked, and a stream is made of the stored completion.
   */
  replayed: boolean;
}

/**
 * Chat Completions through askbase: each exchange stored as one row in the ask lifecycle
 * (pending, then answered or failed; spooled while the database is away), priced, and
 * linked to the conversation it continues, storing only what is new.
 */
export class ChatService {
  private modelList: { until: number; models: Promise<ModelEntry[]> } | undefined;
  private readonly early = new EarlyCalls();

  private readonly finder: ConversationFinder;

  constructor(private readonly deps: ChatServiceDeps) {
    this.finder = new ConversationFinder(deps.conversations);
  }

  async complete(call: ChatCall, progress?: ChatProgress): Promise<ChatResult> {
    const { upstream, allowedModels, storeText } = this.deps;
    if (!upstream) throw new LlmNotConfiguredError();
    const { body } = call;
    if (allowedModels.length > 0 && !allowedModels.includes(body.model)) {
      throw new ModelNotAllowedError(body.model);
    }
    const keepText = call.store ?? storeText;
    const state = keepText ? ConversationState.of(body.messages, call.keyName) : undefined;
    const idempotencyKey =
      call.idempotencyKey === undefined
        ? undefined
        : `${call.keyName ?? ''}:chat:${call.idempotencyKey}`;
    const cacheKey = call.cache === false ? undefined : this.cacheKeyOf(body);
    const relay =
      progress &&
      new ChunkRelay(
        progress,
        (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
      );
    const ask = (signal: AbortSignal) => callUpstream(upstream, body, signal, relay);
    // When nothing the database holds can change the call (no Idempotency-Key to replay, no
    // cache to answer from, no conversation named that may not exist), the LLM is asked at
    // once and the row stored meanwhile (EarlyCalls).
    const early =
      idempotencyKey === undefined && cacheKey === undefined && call.conversationId === undefined
        ? this.early.start(ask)
        : undefined;
    try {
      return await this.store(
        call,
        { keepText, state, idempotencyKey, cacheKey, relay, ask, early },
        progress,
      );
    } catch (error) {
      early?.cancel();
      this.early.failed(error);
      throw error;
    }
  }

  /** Stores the exchange as pending (or finds it stored), then has the attempt answer it. */
  private async store(
    call: ChatCall,
    {
      keepText,
      state,
      idempotencyKey,
      cacheKey,
      relay,
      ask,
      early,
    }: {
      keepText: boolean;
      state: ConversationState | undefined;
      idempotencyKey: string | undefined;
      cacheKey: string | undefined;
      relay: ChunkRelay | undefined;
      ask: (signal: AbortSignal) => Promise<ChatAnswer>;
      early: EarlyCall<ChatAnswer> | undefined;
    },
    progress: ChatProgress | undefined,
  ): Promise<ChatResult> {
    const { messages, ...params } = call.body;
    const follows = await this.finder.place(state, call);
    const question = questionOf(messages);
    const stored = {
      idempotencyKey,
      keyName: call.keyName,
      kind: 'chat' as const,
      follows,
      request: { messages: messages.slice(follows?.end ?? 0), params },
      requestDigest: state?.request(),
      cacheKey,
    };
    if (cacheKey !== undefined) {
      const cached = await this.fromCache(
        keepText ? question : null,
        { ...stored, cacheKey },
        state,
      );
      if (cached) return cached;
    }
    const created = await this.deps.repository.createPending(keepText ? question : null, {
      ...stored,
      deadlineMs: this.deps.askTimeoutMs,
    });
    this.early.stored();
    if (!created.created) {
      early?.cancel();
      return this.replay(created.questionAnswer, question);
    }
    const pending = created.questionAnswer;
    progress?.created(pending);
    relay?.open();
    // The client gets its answer as soon as the LLM gave it; recording it (durably: retried,
    // spooled while the database is away, awaited at shutdown) goes on meanwhile, so storing
    // adds no latency. A failure is answered once it is recorded, with the row's id. With an
    // Idempotency-Key or the answer cache the answer waits for its record, so that a retry
    // finds it (not a 409), and the same request next finds it cached.
    const { answered, recorded } = this.deps.attempts.start(
      pending,
      early ? (signal) => early.join(signal) : ask,
      {
        exchange: (answer) => ({
          response: answer.completion,
          stateDigest: state?.after(answerMessageOf(answer.completion)) ?? null,
        }),
        partial: () => relay?.text ?? '',
      },
    );
    const answer =
      idempotencyKey === undefined && cacheKey === undefined
        ? await answered
        : (await recorded).answer;
    return { row: { ...pending, question }, completion: answer.completion, replayed: false };
  }

  /**
   * An identical request answered within CACHE_TTL_SECONDS answers this one: a new row, a
   * copy of that answer at no cost, as /ask's cache does. Undefined on a miss.
   */
  private async fromCache(
    question: string | null,
    stored: Omit<CreateCachedOptions, 'latencyMs'>,
    state: ConversationState | undefined,
  ): Promise<ChatResult | undefined> {
    const { repository, conversations, cacheTtlSeconds, cacheLookups } = this.deps;
    const started = performance.now();
    const source = await repository.findCached(stored.cacheKey, cacheTtlSeconds);
    const response = source && (await conversations.exchange(source.id))?.response;
    if (!source || !response) {
      cacheLookups('miss');
      return undefined;
    }
    cacheLookups('hit');
    const created = await repository.createCached(question, source, {
      ...stored,
      latencyMs: Math.round(performance.now() - started),
      exchange: { response, stateDigest: state?.after(answerMessageOf(response)) ?? null },
    });
    if (!created.created) return this.replay(created.questionAnswer, question ?? '');
    return {
      row: { ...created.questionAnswer, question: question ?? created.questionAnswer.question },
      completion: response,
      replayed: true,
    };
  }

  /**
   * What makes requests alike for the cache: every field but those about delivery and
   * bookkeeping (stream, stream_options, user, metadata, store). A digest, so no text is kept
   * twice; apart from /ask's keys.
   */
  private cacheKeyOf(body: Json): string | undefined {
    if (this.deps.cacheTtlSeconds === 0) return undefined;
    const alike: Json = { ...body };
    for (const field of NOT_IN_CACHE_KEY) delete alike[field];
    return createHash('sha256')
      .update(JSON.stringify(['chat', alike]))
      .digest('base64url');
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

/**
 * What a person looks for a chat exchange by: the text of its last user message (or, without
 * one, of its last message).
 */
function questionOf(messages: ChatMessage[]): string {
  const user = messages.findLast((m) => m.role === 'user');
  const last = user ?? messages.at(-1);
  return displayedQuestion(textOf(last), last?.role ?? 'chat');
}
