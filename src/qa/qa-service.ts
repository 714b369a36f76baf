import { createHash } from 'node:crypto';
import {
  IdempotencyKeyReusedError,
  InvalidRequestError,
  LlmNotConfiguredError,
  NotFoundError,
  NotRetryableError,
  RequestInProgressError,
  StoredFailureError,
} from '../errors.js';
import {
  type ListFilter,
  type Page,
  type QuestionAnswer,
  type StatsGroupBy,
} from '../domain/question-answer.js';
import type { Logger } from '../logger.js';
import type { AnswerAttempts } from './answer-attempts.js';
import { settled } from './settled.js';
import type {
  Answerer,
  ChatMessage,
  ConversationStore,
  ListPageOptions,
  QuestionStore,
  StatsFilter,
  StatsResult,
} from './ports.js';

/** Rows read per query when exporting. */
const EXPORT_PAGE_ROWS = 1_000;

/** What a streaming ask reports as it goes; listeners must not throw. */
export interface AskProgress {
  /** The question is stored as pending; the LLM is asked next. */
  created(pending: QuestionAnswer): void;
  /** The next piece of the answer's text, in order. */
  delta(text: string): void;
}

export interface QaServiceDeps {
  repository: QuestionStore;
  conversations: ConversationStore;
  /** Undefined when no LLM is configured: asks are refused before anything is stored. */
  answerer: Answerer | undefined;
  /** Runs each attempt at an answer: deadline, shutdown, and recording its outcome. */
  attempts: AnswerAttempts;
  maxQuestionLength: number;
  /** Whether an ask keeps its text unless it says otherwise (STORE_TEXT). */
  storeText: boolean;
  /** The answer cache: how long an answer may be reused (0: off), and what else makes asks alike. */
  cache: { ttlSeconds: number; model: string; systemPrompt: string | undefined };
  /** Counts cache lookups: hit, miss, or waited (for an identical ask in flight). */
  cacheLookups: (result: 'hit' | 'miss' | 'waited') => void;
  /** The most one attempt at an answer may take; stored with the row as its deadline. */
  askTimeoutMs: number;
  logger: Logger;
}

export interface AskRequest {
  question: string;
  idempotencyKey?: string | undefined;
  /** The name of the API key that asks, stored with the question. */
  keyName?: string | undefined;
  /** False: answer, but keep no text of the question or the answer (default: STORE_TEXT). */
  store?: boolean | undefined;
  /** False: ask the LLM even when the answer cache holds an answer. */
  cache?: boolean | undefined;
  /** The id of an answered question this one follows up: asked with its conversation. */
  followUpTo?: number | undefined;
}

/** The ask lifecycle, and reading back what it stored. */
export class QaService {
  /** Cache keys being asked of the LLM right now, settled when that ask ends either way. */
  private readonly asking = new Map<string, Promise<void>>();

  constructor(private readonly deps: QaServiceDeps) {}

  /**
   * Stores the question as pending, asks the LLM with no database connection held, then
   * records the answer or the failure. The lifecycle runs to the end even if the caller goes
   * away, so a paid-for answer is stored; `drain()` waits for those still running. With
   * `progress`, the answer is streamed from the LLM and each step reported as it happens;
   * nothing is reported before the question is stored.
   */
  async ask(asked: AskRequest, progress?: AskProgress): Promise<QuestionAnswer> {
    const question = this.validQuestion(asked.question);
    // An Idempotency-Key is its client's own: with API keys, one key's client can neither
    // replay nor read the question another's asked under the same Idempotency-Key. Key names
    // have no ':', so the scoped key is unambiguous.
    const request =
      asked.keyName === undefined || asked.idempotencyKey === undefined
        ? asked
        : { ...asked, idempotencyKey: `${asked.keyName}:${asked.idempotencyKey}` };
    const answerer = this.requireAnswerer();
    // A follow-up depends on its conversation, so no other ask's answer fits it.
    if (request.followUpTo !== undefined) {
      return this.askLlm(question, undefined, request, answerer, progress);
    }
    // With the cache off, asks neither look up nor leave a key: no digest, no index entry.
    if (this.deps.cache.ttlSeconds === 0) {
      return this.askLlm(question, undefined, request, answerer, progress);
    }
    const cacheKey = this.cacheKeyOf(question);
    if (request.cache === false) {
      return this.askLlm(question, cacheKey, request, answerer, progress);
    }
    // One LLM call for identical asks at once: the first asks, the others wait for it and
    // then find its answer in the cache.
    const inFlight = this.asking.get(cacheKey);
    let done: (() => void) | undefined;
    if (inFlight) {
      this.deps.cacheLookups('waited');
      await inFlight;
    } else {
      this.asking.set(cacheKey, new Promise<void>((resolve) => (done = resolve)));
    }
    try {
      const started = performance.now();
      const source = await this.deps.repository.findCached(cacheKey, this.deps.cache.ttlSeconds);
      if (source) {
        this.deps.cacheLookups('hit');
        return this.answerFromCache(question, source, cacheKey, request, started, progress);
      }
      this.deps.cacheLookups('miss');
      return await this.askLlm(question, cacheKey, request, answerer, progress);
    } finally {
      if (done) {
        this.asking.delete(cacheKey);
        done();
      }
    }
  }

  private async askLlm(
    question: string,
    cacheKey: string | undefined,
    { idempotencyKey, keyName, store, followUpTo }: AskRequest,
    answerer: Answerer,
    progress?: AskProgress,
  ): Promise<QuestionAnswer> {
    const keepText = store ?? this.deps.storeText;
    const thread = followUpTo === undefined ? undefined : await this.threadOf(followUpTo, keyName);
    const created = await this.deps.repository.createPending(keepText ? question : null, {
      idempotencyKey,
      keyName,
      cacheKey,
      deadlineMs: this.deps.askTimeoutMs,
      follows: thread?.follows,
    });
    if (!created.created) return replayIdempotent(created.questionAnswer, question);
    progress?.created(created.questionAnswer);
    return this.answerAndRecord(
      created.questionAnswer,
      question,
      answerer,
      progress,
      thread?.messages,
    );
  }

  /**
   * The conversation an ask follows up: the answered question `id` and the turns before it,
   * as messages. Only the asker's own (the same API key) can be followed up.
   */
  private async threadOf(id: number, keyName: string | undefined) {
    // A chat turn answered a moment ago may still be being recorded.
    const parent = await settled(() => this.deps.repository.get(id));
    if (!parent || parent.keyName !== (keyName ?? null)) {
      throw new InvalidRequestError(`no question with id ${id} to follow up`, 'follow_up_to');
    }
    if (parent.status !== 'answered' || !parent.textStored) {
      throw new InvalidRequestError(
        `question ${id} has no stored answer to follow up`,
        'follow_up_to',
      );
    }
    const { messages } = await this.deps.conversations.history(id);
    const follows = {
      parentId: id,
      conversationId: parent.conversationId ?? id,
      nameFirst: parent.conversationId === null,
    };
    return { follows, messages };
  }

  /** A new question answered with a copy of `source`'s answer: no LLM call, cost 0. */
  private async answerFromCache(
    question: string,
    source: QuestionAnswer,
    cacheKey: string,
    { idempotencyKey, keyName, store }: AskRequest,
    started: number,
    progress?: AskProgress,
  ): Promise<QuestionAnswer> {
    const keepText = store ?? this.deps.storeText;
    const created = await this.deps.repository.createCached(keepText ? question : null, source, {
      idempotencyKey,
      keyName,
      cacheKey,
      latencyMs: Math.round(performance.now() - started),
    });
    if (!created.created) return replayIdempotent(created.questionAnswer, question);
    const answer = source.answer ?? '';
    progress?.created(created.questionAnswer);
    progress?.delta(answer);
    return { ...created.questionAnswer, question, answer };
  }

  /**
   * What makes asks alike for the cache: the question as a person means it (trimmed, Unicode
   * NFC), the model and the system prompt. A digest, so the text is not kept twice.
   */
  private cacheKeyOf(question: string): string {
    const { model, systemPrompt } = this.deps.cache;
    return createHash('sha256')
      .update(JSON.stringify([question.normalize('NFC'), model, systemPrompt ?? null]))
      .digest('base64url');
  }

  /** Asks a failed question again, under the same id. */
  async retry(id: number): Promise<QuestionAnswer> {
    const answerer = this.requireAnswerer();
    const reopened = await this.deps.repository.reopenFailed(id, this.deps.askTimeoutMs);
    if (!reopened) {
      const current = await this.get(id);
      throw new NotRetryableError(id, current.status, current.textStored);
    }
    // Only a row with its text is reopened (reopenFailed). A follow-up is asked with its
    // conversation again.
    const thread =
      reopened.parentId === null
        ? undefined
        : (await this.deps.conversations.history(reopened.parentId)).messages;
    return this.answerAndRecord(reopened, reopened.question ?? '', answerer, undefined, thread);
  }

  async get(id: number): Promise<QuestionAnswer> {
    const found = await this.deps.repository.get(id);
    if (!found) throw new NotFoundError(`no question with id ${id}`);
    return found;
  }

  /** A stored exchange whole: its request as sent (every message) and its response. */
  async exchange(id: number) {
    const found = await this.deps.conversations.exchange(id);
    if (!found) throw new NotFoundError(`no question with id ${id}`);
    return found;
  }

  /** A conversation's turns, oldest first. */
  async conversation(id: number): Promise<QuestionAnswer[]> {
    const turns = await this.deps.conversations.turns(id);
    if (turns.length === 0) throw new NotFoundError(`no conversation with id ${id}`);
    return turns;
  }

  async delete(id: number): Promise<void> {
    if (!(await this.deps.repository.delete(id))) {
      throw new NotFoundError(`no question with id ${id}`);
    }
  }

  list(options: ListPageOptions): Promise<Page<QuestionAnswer>> {
    return this.deps.repository.listPage(options);
  }

  /** Totals over stored questions, and per group (model, day or key) when asked. */
  stats(filter: StatsFilter, groupBy?: StatsGroupBy): Promise<StatsResult> {
    return this.deps.repository.stats(filter, groupBy);
  }

  /**
   * Every stored question the filter matches, newest first, read a keyset page at a time: the
   * memory held is one page whatever the total, and no connection is kept between pages.
   * Stopping the iteration (a client that went away) stops the reading.
   */
  async *exportAll(filter: ListFilter): AsyncGenerator<QuestionAnswer> {
    let afterId: number | undefined;
    do {
      const page = await this.deps.repository.listPage({
        limit: EXPORT_PAGE_ROWS,
        afterId,
        ...filter,
      });
      yield* page.items;
      afterId = page.nextAfterId;
    } while (afterId !== undefined);
  }

  /**
   * `question` is the text to ask, also when the row keeps none of it (then neither is the
   * answer stored; only the caller sees it); `thread`, the conversation it follows up.
   */
  private async answerAndRecord(
    pending: QuestionAnswer,
    question: string,
    answerer: Answerer,
    progress?: AskProgress,
    thread?: ChatMessage[],
  ): Promise<QuestionAnswer> {
    let received = '';
    const { row } = await this.deps.attempts.run(
      pending,
      (signal) =>
        progress
          ? answerer.answerStream(
              question,
              (text) => {
                received += text;
                if (!signal.aborted) progress.delta(text);
              },
              signal,
              thread,
            )
          : answerer.answer(question, signal, thread),
      { partial: () => received },
    );
    // The caller always gets its question and answer, stored or not.
    return { ...row, question };
  }

  private requireAnswerer(): Answerer {
    if (!this.deps.answerer) throw new LlmNotConfiguredError();
    return this.deps.answerer;
  }

  private validQuestion(raw: string): string {
    const question = raw.trim();
    if (question === '') {
      throw new InvalidRequestError('question must be a non-empty string', 'question');
    }
    // Counted in characters (code points), as a person would count them.
    const length = [...question].length;
    if (length > this.deps.maxQuestionLength) {
      throw new InvalidRequestError(
        `question must be at most ${this.deps.maxQuestionLength} characters (got ${length})`,
        'question',
      );
    }
    // PostgreSQL text cannot hold NUL, and lone surrogates cannot be stored as UTF-8.
    if (question.includes('\u0000')) {
      throw new InvalidRequestError('question must not contain NUL characters', 'question');
    }
    if (!question.isWellFormed()) {
      throw new InvalidRequestError('question must be valid Unicode text', 'question');
    }
    return question;
  }
}

/** A repeated Idempotency-Key gets the first request's result, never a second LLM call. */
function replayIdempotent(existing: QuestionAnswer, question: string): QuestionAnswer {
  // Without its stored text a reused key cannot be told from a repeat; it counts as a repeat.
  if (existing.textStored && existing.question !== question) {
    throw new IdempotencyKeyReusedError(existing.id);
  }
  if (existing.status === 'pending') throw new RequestInProgressError(existing.id);
  if (existing.status === 'failed' && existing.error) {
    throw new StoredFailureError(existing.id, existing.error);
  }
  return existing;
}
