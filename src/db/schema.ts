import { type SQL, sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { EXCHANGE_KINDS, QUESTION_STATUSES } from '../domain/question-answer.js';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * One row per question asked. Text columns are unbounded `text` on purpose: an answer the LLM
 * was already paid for must never be rejected by a varchar limit. Checks guard the states the
 * ask lifecycle can produce instead.
 */
export const questionAnswers = pgTable(
  'question_answers',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** Null when the ask said `"store": false` (or STORE_TEXT=false): see textStored. */
    question: text('question'),
    answer: text('answer'),
    status: text('status', { enum: QUESTION_STATUSES }).notNull().default('pending'),
    model: text('model'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    totalTokens: integer('total_tokens'),
    latencyMs: integer('latency_ms'),
    /** What the answer cost, from its usage and the price below (null: no known price). */
    costUsd: doublePrecision('cost_usd'),
    /**
     * The price the cost was computed with, USD per 1,000,000 tokens, kept with the row so a
     * later price change never rewrites history.
     */
    priceInputPerMtok: doublePrecision('price_input_per_mtok'),
    priceOutputPerMtok: doublePrecision('price_output_per_mtok'),
    priceCachedInputPerMtok: doublePrecision('price_cached_input_per_mtok'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    answeredAt: timestamp('answered_at', { withTimezone: true, mode: 'date' }),
    /**
     * Which attempt at an answer owns the row: 1 for the ask, one more for each retry. Only
     * that attempt may record an outcome, so a late result of an earlier attempt changes nothing.
     */
    attempt: integer('attempt').notNull().default(1),
    /**
     * When the current attempt must have ended, by the deadline of the process that started
     * it. Recovery fails a pending row only some time after this, so replicas with different
     * timeouts never fail each other's live asks, and a retried old question is not stale.
     */
    deadlineAt: timestamp('deadline_at', { withTimezone: true, mode: 'date' })
      .notNull()
      .defaultNow(),
    /**
     * The process whose attempt owns a pending row (a random id each process draws at start).
     * On the embedded database only one process can run, so at start every pending row owned
     * by another is an attempt whose process died.
     */
    owner: text('owner'),
    /** The client's Idempotency-Key: a retried POST /ask finds its first attempt by it. */
    idempotencyKey: text('idempotency_key'),
    /**
     * False when the ask asked askbase not to keep its text: the question and the answer are
     * null, the rest (status, model, usage, latency, key, times) is kept.
     */
    textStored: boolean('text_stored').notNull().default(true),
    /**
     * What makes two asks the same for the answer cache: a digest of the question (trimmed,
     * Unicode NFC), the model and the system prompt. Never the text itself.
     */
    cacheKey: text('cache_key'),
    /** The answered question this row's answer was copied from (CACHE_TTL_SECONDS). */
    cachedFrom: bigint('cached_from', { mode: 'number' }),
    /** The name of the API key that asked (API_KEYS `name:key`), never the key; null without keys. */
    keyName: text('key_name'),
    /**
     * Where the row came from: `ask` (POST /ask), `chat` (POST /v1/chat/completions) or
     * `response` (POST /v1/responses).
     */
    kind: text('kind', { enum: EXCHANGE_KINDS }).notNull().default('ask'),
    /**
     * The conversation this row is a turn of: its first turn's id. Null on a first turn until a
     * second one follows (a chat row's conversation is then its own id).
     */
    conversationId: bigint('conversation_id', { mode: 'number' }),
    /** The turn this one follows: its messages and answer are the start of this one's request. */
    parentId: bigint('parent_id', { mode: 'number' }),
    /**
     * A chat turn's messages after its parent's (all of them on a first turn): each turn stores
     * only what is new, so a conversation of N turns stores its text once, not N times over.
     * Null when the text is not stored.
     */
    requestMessages: jsonb('request_messages').$type<unknown[]>(),
    /** The chat request's other fields (model, tools, response_format, …), as sent. */
    requestParams: jsonb('request_params').$type<Record<string, unknown>>(),
    /** The upstream's response (a stream's chunks put together); null when text is not stored. */
    response: jsonb('response').$type<Record<string, unknown>>(),
    finishReason: text('finish_reason'),
    /**
     * The id askbase gave a response (`resp_…`): how a client names it again, in
     * `previous_response_id` and GET /v1/responses/{id}. Null on other rows.
     */
    responseId: text('response_id'),
    /** Time to the first piece of a streamed answer. */
    ttftMs: integer('ttft_ms'),
    cachedPromptTokens: integer('cached_prompt_tokens'),
    reasoningTokens: integer('reasoning_tokens'),
    /**
     * A digest of the API key's name and the whole conversation up to and including this
     * turn's answer: the next turn, whose request starts with exactly that, finds this row by
     * it. Null without stored text (no digest of private text is kept).
     */
    stateDigest: text('state_digest'),
    /**
     * The same digest over the request's messages only, from the moment the turn is stored as
     * pending: a next turn sent before this one's answer is recorded finds it by this, and
     * waits for the answer.
     */
    requestDigest: text('request_digest'),
    // Full-text search over the question and its answer, kept up to date by PostgreSQL itself.
    // Only the first 200,000 characters are indexed: a tsvector holds at most 1 MB of distinct
    // words, and exceeding it would fail the update that stores an answer already paid for.
    // Queries must use the same 'english' configuration so their words stem alike.
    /**
     * Words in other scripts, and pairs of characters of those written without spaces, which
     * the 'english' index cannot find (repository/search-terms.ts). Written by askbase with the
     * question and with the answer; null on a row stored by an older version, until the
     * background job indexes it.
     */
    searchTerms: text('search_terms').array(),
    searchVector: tsvector('search_vector').generatedAlwaysAs(
      (): SQL =>
        sql`to_tsvector('english', left(${questionAnswers.question} || ' ' || coalesce(${questionAnswers.answer}, ''), 200000))`,
    ),
  },
  (t) => [
    index('question_answers_search_vector_idx').using('gin', t.searchVector),
    // Only rows with terms (text beyond ASCII): an ASCII row costs no entry on every ask.
    // Searches say `search_terms <> '{}'` so that the planner may use it.
    index('question_answers_search_terms_idx')
      .using('gin', t.searchTerms)
      .where(sql`${t.searchTerms} <> '{}'`),
    // The rows the background job has still to index: none, once it has caught up.
    index('question_answers_search_terms_missing_idx')
      .on(t.id)
      .where(sql`${t.searchTerms} is null`),
    // GET /qas?status=… walks one status newest first, instead of skipping through every
    // other row on the primary key: rare statuses (pending, failed) would cost a full scan.
    index('question_answers_status_id_idx').on(t.status, t.id),
    // GET /qas?since=…&until=… on a window far back in history reads just that window,
    // where the primary key would first skip every newer row.
    index('question_answers_created_at_idx').on(t.createdAt),
    // The answer cache looks up the newest answered row of a key; rows asked while the cache
    // was off have none and take no room in it.
    index('question_answers_cache_key_id_idx')
      .on(t.cacheKey, t.id)
      .where(sql`${t.status} = 'answered' and ${t.cacheKey} is not null`),
    // GET /qas?key=… walks one key's questions newest first.
    // Only asks made with a key: without API_KEYS no ask pays for an entry.
    index('question_answers_key_name_id_idx')
      .on(t.keyName, t.id)
      .where(sql`${t.keyName} is not null`),
    // The next turn of a conversation finds its parent by the digest of what came before.
    index('question_answers_state_digest_idx')
      .on(t.stateDigest)
      .where(sql`${t.stateDigest} is not null`),
    // Turns still being answered, by the digest of their request; none once answered.
    index('question_answers_pending_request_digest_idx')
      .on(t.requestDigest)
      .where(sql`${t.status} = 'pending' and ${t.requestDigest} is not null`),
    // A conversation's turns in order; rows outside conversations take no room.
    index('question_answers_conversation_id_idx')
      .on(t.conversationId, t.id)
      .where(sql`${t.conversationId} is not null`),
    // GET /qas?kind=chat walks the chat rows newest first; asks, the rest, cost no entry.
    index('question_answers_chat_id_idx')
      .on(t.id)
      .where(sql`${t.kind} = 'chat'`),
    // GET /qas?kind=response, likewise.
    index('question_answers_response_kind_id_idx')
      .on(t.id)
      .where(sql`${t.kind} = 'response'`),
    // A response is found by its id; a client's id names one response, never two.
    uniqueIndex('question_answers_response_id_idx')
      .on(t.responseId)
      .where(sql`${t.responseId} is not null`),
    check('question_answers_kind_known', sql`${t.kind} in ('ask', 'chat', 'response')`),
    check(
      'question_answers_question_not_blank',
      sql`${t.question} is null or char_length(btrim(${t.question})) > 0`,
    ),
    check(
      'question_answers_text_stored_or_none',
      sql`(${t.textStored} and ${t.question} is not null) or (not ${t.textStored} and ${t.question} is null and ${t.answer} is null)`,
    ),
    check('question_answers_question_length', sql`char_length(${t.question}) <= 1000000`),
    check('question_answers_status_known', sql`${t.status} in ('pending', 'answered', 'failed')`),
    check(
      'question_answers_answered_has_answer',
      sql`${t.status} <> 'answered' or (${t.answeredAt} is not null and (${t.answer} is not null or not ${t.textStored}))`,
    ),
    check(
      'question_answers_failed_has_error',
      sql`${t.status} <> 'failed' or ${t.errorCode} is not null`,
    ),
    check(
      'question_answers_tokens_non_negative',
      sql`coalesce(${t.promptTokens}, 0) >= 0 and coalesce(${t.completionTokens}, 0) >= 0 and coalesce(${t.totalTokens}, 0) >= 0`,
    ),
    // The unique index is what makes idempotency hold across concurrent requests and replicas.
    uniqueIndex('question_answers_idempotency_key_unique').on(t.idempotencyKey),
    check(
      'question_answers_idempotency_key_length',
      sql`${t.idempotencyKey} is null or char_length(${t.idempotencyKey}) between 1 and 255`,
    ),
    // Crash recovery looks for pending rows past their deadline; a partial index keeps that
    // lookup tiny.
    index('question_answers_pending_deadline_at_idx')
      .on(t.deadlineAt)
      .where(sql`${t.status} = 'pending'`),
    check('question_answers_attempt_positive', sql`${t.attempt} >= 1`),
    check('question_answers_latency_non_negative', sql`coalesce(${t.latencyMs}, 0) >= 0`),
    check('question_answers_cost_non_negative', sql`coalesce(${t.costUsd}, 0) >= 0`),
  ],
);

/**
 * RATE_LIMIT_STORE=database: each client's asks in the current fixed window, shared by every
 * askbase process on the database, so one budget holds across replicas and workers.
 */
export const rateLimitHits = pgTable('rate_limit_hits', {
  /** The client: its address, or its API key's name (never the key). */
  key: text('key').primaryKey(),
  windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
  hits: integer('hits').notNull(),
});

/**
 * Each askbase process on PostgreSQL holds a lease, renewed by a heartbeat timed by the
 * database's clock: a pending row whose owner's lease has expired lost its process, and any
 * live process fails it at once instead of waiting for its deadline.
 */
export const leases = pgTable('askbase_leases', {
  /** The process: `owner` on the rows it owns (its instance, `#`, a random id drawn at start). */
  owner: text('owner').primaryKey(),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true, mode: 'date' }).notNull(),
});

export const schema = { questionAnswers, rateLimitHits, leases };
