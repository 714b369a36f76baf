import { type SQL, and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { questionAnswers } from '../db/schema.js';
import {
  type StoredAnswer,
  type Page,
  type QuestionAnswer,
  type StatsGroupBy,
} from '../domain/question-answer.js';
import { storableText } from '../domain/storable-text.js';
import { ParentGoneError } from '../errors.js';
import type {
  AttemptFailure,
  CreateCachedOptions,
  CreatePendingOptions,
  CreatePendingResult,
  Failure,
  ListPageOptions,
  QuestionStore,
  StatsFilter,
  StatsResult,
} from '../qa/ports.js';
import {
  type Row,
  columns,
  ownedOpenRow,
  storableJson,
  toQuestionAnswer,
} from './question-columns.js';
import { type PendingParams, pendingRow } from './pending-row.js';
import { matching } from './question-filters.js';
import { searchTerms } from './search-terms.js';
import { withoutAnswerText } from './stored-response.js';

import { runStatement } from './statements.js';
import { statsOf } from './stats-query.js';

const { searchTerms: searchTermsColumn } = questionAnswers;

/** A page of a listing stops adding rows once their text passes this many bytes (1 MiB). */
export const PAGE_MAX_TEXT_BYTES = 1_048_576;

/** A search looks in this many of the newest rows first (see listPage). */
export const SEARCH_WINDOW_ROWS = 5_000;

/**
 * The data access layer: every query askbase makes lives here. Each method is one statement,
 * so each runs in its own implicit transaction and holds a pooled connection only for that
 * statement; nothing here ever waits on the LLM. A database that cannot be reached surfaces as
 * DatabaseUnavailableError, whatever the driver said.
 */
export class QuestionRepository implements QuestionStore {
  // The statements on every ask and read are built once and prepared; a call only binds its
  // parameters. Building them per call cost more CPU than the rest of the request.
  private readonly statements;

  constructor(
    private readonly database: Database,
    /** This process's id, stamped on each pending row it owns (see `owner` in the schema). */
    private readonly owner: string | null = null,
  ) {
    const param = (name: string) => sql`${sql.placeholder(name)}`;
    const { db } = database;
    this.statements = {
      insertPending: db
        .insert(questionAnswers)
        .values(pendingRow((name) => sql`${sql.placeholder(name)}`))
        .onConflictDoNothing({ target: questionAnswers.idempotencyKey })
        .returning(columns)
        .prepare('askbase_insert_pending'),
      selectByIdempotencyKey: db
        .select(columns)
        .from(questionAnswers)
        .where(eq(questionAnswers.idempotencyKey, sql.placeholder('idempotencyKey')))
        .prepare('askbase_select_by_idempotency_key'),
      markAnswered: db
        .update(questionAnswers)
        .set({
          status: 'answered',
          answer: param('answer'),
          // A row an older version stored keeps null, so the background job indexes it whole.
          searchTerms: sql`case when ${searchTermsColumn} is null then null else ${searchTermsColumn} || ${sql.placeholder('answerTerms')}::text[] end`,
          model: param('model'),
          promptTokens: param('promptTokens'),
          completionTokens: param('completionTokens'),
          totalTokens: param('totalTokens'),
          cachedPromptTokens: param('cachedPromptTokens'),
          reasoningTokens: param('reasoningTokens'),
          latencyMs: param('latencyMs'),
          ttftMs: param('ttftMs'),
          finishReason: param('finishReason'),
          // Kept while the row's text is: a row asked with "store": false keeps none of it.
          response: sql`case when ${questionAnswers.textStored} then ${sql.placeholder('response')}::jsonb end`,
          stateDigest: sql`case when ${questionAnswers.textStored} then ${sql.placeholder('stateDigest')}::text end`,
          costUsd: param('costUsd'),
          priceInputPerMtok: param('priceInput'),
          priceOutputPerMtok: param('priceOutput'),
          priceCachedInputPerMtok: param('priceCachedInput'),
          answeredAt: param('answeredAt'),
          errorCode: null,
          errorMessage: null,
        })
        .where(ownedOpenRow(sql.placeholder('id'), sql.placeholder('attempt')))
        .returning(columns)
        .prepare('askbase_mark_answered'),
      nameConversation: db
        .update(questionAnswers)
        .set({ conversationId: questionAnswers.id })
        .where(
          and(
            eq(questionAnswers.id, sql.placeholder('id')),
            isNull(questionAnswers.conversationId),
          ),
        )
        .prepare('askbase_name_conversation'),
      selectById: db
        .select(columns)
        .from(questionAnswers)
        .where(eq(questionAnswers.id, sql.placeholder('id')))
        .prepare('askbase_select_by_id'),
    };
  }

  private get db() {
    return this.database.db;
  }

  /**
   * Inserts the question as pending. With an idempotency key that was used before, inserts
   * nothing and returns the earlier row instead; the unique index decides races.
   */
  createPending(
    question: string | null,
    {
      idempotencyKey,
      deadlineMs,
      keyName,
      cacheKey,
      kind = 'ask',
      follows,
      request,
      requestDigest,
      responseId,
    }: CreatePendingOptions,
  ): Promise<CreatePendingResult> {
    return this.run(async () => {
      const key = idempotencyKey ?? null;
      const keepText = question !== null;
      const params: PendingParams = {
        question,
        idempotencyKey: key,
        keyName: keyName ?? null,
        cacheKey: cacheKey ?? null,
        textStored: keepText,
        kind,
        parentId: follows?.parentId ?? null,
        conversationId: follows?.conversationId ?? null,
        requestMessages: keepText && request ? storableJson(request.messages) : null,
        requestParams: keepText && request ? storableJson(request.params) : null,
        requestDigest: keepText ? (requestDigest ?? null) : null,
        responseId: responseId ?? null,
        owner: this.owner,
        searchTerms: searchTerms(question),
        deadlineMs,
      };
      if (follows?.parentAnswered && follows.parentId !== null) {
        return this.createFollowing(params, follows.parentId);
      }
      // The conversation is named by its first turn, which learns it when a second follows.
      if (follows?.nameFirst) {
        await this.statements.nameConversation.execute({ id: follows.conversationId });
      }
      const [row] = await this.statements.insertPending.execute(params);
      if (row) return { created: true, questionAnswer: toQuestionAnswer(row) };
      return { created: false, questionAnswer: await this.byIdempotencyKey(key) };
    });
  }

  /**
   * Stores a turn that follows answered turn `parentId`, in the transaction that finds the
   * parent still there and holds it until the turn is stored: a parent deleted meanwhile is
   * ParentGoneError, never a turn that follows nothing.
   */
  private async createFollowing(
    params: PendingParams,
    parentId: number,
  ): Promise<CreatePendingResult> {
    const created = await this.db.transaction(async (tx) => {
      const [parent] = await tx
        .select({ id: questionAnswers.id })
        .from(questionAnswers)
        .where(and(eq(questionAnswers.id, parentId), eq(questionAnswers.status, 'answered')))
        .for('key share');
      if (!parent) throw new ParentGoneError(parentId);
      const [row] = await tx
        .insert(questionAnswers)
        .values(pendingRow((name) => sql`${sql.param(params[name])}`))
        .onConflictDoNothing({ target: questionAnswers.idempotencyKey })
        .returning(columns);
      return row;
    });
    if (created) return { created: true, questionAnswer: toQuestionAnswer(created) };
    // Read once the transaction is over: the embedded database has one connection.
    return { created: false, questionAnswer: await this.byIdempotencyKey(params.idempotencyKey) };
  }

  private async byIdempotencyKey(key: string | null): Promise<QuestionAnswer> {
    const [existing] = await this.statements.selectByIdempotencyKey.execute({
      idempotencyKey: key,
    });
    if (!existing) throw new Error('idempotency key conflict but no row found');
    return toQuestionAnswer(existing);
  }

  findCached(cacheKey: string, maxAgeSeconds: number): Promise<QuestionAnswer | undefined> {
    return this.run(async () => {
      const [row] = await this.db
        .select(columns)
        .from(questionAnswers)
        .where(
          and(
            eq(questionAnswers.cacheKey, cacheKey),
            eq(questionAnswers.status, 'answered'),
            eq(questionAnswers.textStored, true),
            // An answer the LLM gave, not a copy: its age is what the TTL bounds.
            isNull(questionAnswers.cachedFrom),
            sql`${questionAnswers.answeredAt} > now() - ${maxAgeSeconds} * interval '1 second'`,
          ),
        )
        .orderBy(desc(questionAnswers.id))
        .limit(1);
      return row && toQuestionAnswer(row);
    });
  }

  createCached(
    question: string | null,
    source: QuestionAnswer,
    options: CreateCachedOptions,
  ): Promise<CreatePendingResult> {
    return this.run(async () => {
      const key = options.idempotencyKey ?? null;
      const keepText = question !== null;
      const { follows, request, exchange } = options;
      if (follows?.nameFirst) {
        await this.statements.nameConversation.execute({ id: follows.conversationId });
      }
      const [row] = await this.db
        .insert(questionAnswers)
        .values({
          question,
          answer: question === null ? null : source.answer,
          status: 'answered',
          model: source.model,
          finishReason: source.finishReason,
          kind: options.kind ?? 'ask',
          parentId: follows?.parentId ?? null,
          conversationId: follows?.conversationId ?? null,
          requestMessages:
            keepText && request ? sql`${storableJson(request.messages)}::jsonb` : null,
          requestParams: keepText && request ? sql`${storableJson(request.params)}::jsonb` : null,
          response:
            keepText && exchange?.response
              ? sql`${storableJson(withoutAnswerText(exchange.response, storableText(source.answer)))}::jsonb`
              : null,
          stateDigest: keepText ? (exchange?.stateDigest ?? null) : null,
          latencyMs: options.latencyMs,
          costUsd: 0,
          answeredAt: sql`now()`,
          idempotencyKey: key,
          keyName: options.keyName ?? null,
          cacheKey: options.cacheKey,
          cachedFrom: source.id,
          textStored: question !== null,
          searchTerms: question === null ? [] : searchTerms(question, source.answer),
        })
        .onConflictDoNothing({ target: questionAnswers.idempotencyKey })
        .returning(columns);
      if (row) return { created: true, questionAnswer: toQuestionAnswer(row) };
      return { created: false, questionAnswer: await this.byIdempotencyKey(key) };
    });
  }

  /**
   * Records the answer of attempt `attempt`; undefined when the row is gone, already has an
   * outcome, or belongs to a later attempt. A row that crash recovery marked interrupted still
   * takes a late answer of its attempt: it was paid for.
   */
  markAnswered(
    id: number,
    attempt: number,
    answer: StoredAnswer,
    answeredAt: Date = new Date(),
  ): Promise<QuestionAnswer | undefined> {
    return this.run(async () => {
      const [row] = await this.statements.markAnswered.execute({
        id,
        attempt,
        answer: storableText(answer.text),
        answerTerms: searchTerms(answer.text),
        model: answer.model,
        promptTokens: answer.usage?.promptTokens ?? null,
        completionTokens: answer.usage?.completionTokens ?? null,
        totalTokens: answer.usage?.totalTokens ?? null,
        cachedPromptTokens: answer.usage?.cachedPromptTokens ?? null,
        reasoningTokens: answer.usage?.reasoningTokens ?? null,
        latencyMs: answer.latencyMs,
        ttftMs: answer.ttftMs ?? null,
        finishReason: answer.finishReason ?? null,
        response: answer.exchange?.response
          ? storableJson(withoutAnswerText(answer.exchange.response, storableText(answer.text)))
          : null,
        stateDigest: answer.exchange?.stateDigest ?? null,
        costUsd: answer.costUsd ?? null,
        priceInput: answer.price?.inputPerMTok ?? null,
        priceOutput: answer.price?.outputPerMTok ?? null,
        priceCachedInput: answer.price?.cachedInputPerMTok ?? null,
        answeredAt: answeredAt.toISOString(),
      });
      return row && toQuestionAnswer(row);
    });
  }

  /**
   * Records why attempt `attempt` got no answer; undefined when the row is gone, has an
   * outcome, or belongs to a later attempt. Replaces `interrupted` with the real reason. The
   * part of a streamed answer that arrived before it broke off is kept as its answer, while
   * the row keeps its text: the client saw it, and it was paid for.
   */
  markFailed(
    id: number,
    attempt: number,
    error: AttemptFailure,
  ): Promise<QuestionAnswer | undefined> {
    const partial = storableText(error.partialAnswer ?? null);
    return this.run(async () => {
      const [row] = await this.db
        .update(questionAnswers)
        .set({
          status: 'failed',
          errorCode: error.code,
          errorMessage: error.message,
          answer: sql`case when ${questionAnswers.textStored} then ${partial}::text end`,
          searchTerms: sql`case when ${searchTermsColumn} is null then null else ${searchTermsColumn} || ${sql.param(searchTerms(partial))}::text[] end`,
        })
        .where(ownedOpenRow(id, attempt))
        .returning(columns);
      return row && toQuestionAnswer(row);
    });
  }

  /**
   * Puts a failed question back to pending as its next attempt, due within `deadlineMs`;
   * undefined unless it was failed.
   */
  reopenFailed(id: number, deadlineMs: number): Promise<QuestionAnswer | undefined> {
    return this.run(async () => {
      const [row] = await this.db
        .update(questionAnswers)
        .set({
          status: 'pending',
          // A part of an answer that broke off belongs to the attempt that got it.
          answer: null,
          errorCode: null,
          errorMessage: null,
          latencyMs: null,
          attempt: sql`${questionAnswers.attempt} + 1`,
          owner: this.owner,
          deadlineAt: sql`now() + ${deadlineMs} * interval '1 millisecond'`,
        })
        // A question whose text was not stored cannot be asked again.
        .where(
          and(
            eq(questionAnswers.id, id),
            eq(questionAnswers.status, 'failed'),
            eq(questionAnswers.textStored, true),
          ),
        )
        .returning(columns);
      return row && toQuestionAnswer(row);
    });
  }

  /**
   * Marks rows still pending `marginMs` after their attempt's deadline as failed: the process
   * answering them would have recorded an outcome by then, so it died. Time is the database's,
   * so the clocks of replicas do not matter. Returns how many.
   */
  failStalePending(marginMs: number, failure: Failure): Promise<number> {
    return this.failPending(
      lt(questionAnswers.deadlineAt, sql`now() - ${marginMs} * interval '1 millisecond'`),
      failure,
    );
  }

  failPendingOfOthers(failure: Failure): Promise<number> {
    return this.failPending(sql`${questionAnswers.owner} is distinct from ${this.owner}`, failure);
  }

  private failPending(which: SQL, failure: Failure): Promise<number> {
    return this.run(async () => {
      const rows = await this.db
        .update(questionAnswers)
        .set({ status: 'failed', errorCode: failure.code, errorMessage: failure.message })
        .where(and(eq(questionAnswers.status, 'pending'), which))
        .returning({ id: questionAnswers.id });
      return rows.length;
    });
  }

  get(id: number): Promise<QuestionAnswer | undefined> {
    return this.run(async () => {
      const [row] = await this.statements.selectById.execute({ id });
      return row && toQuestionAnswer(row);
    });
  }

  delete(id: number): Promise<boolean> {
    return this.run(async () => {
      const deleted = await this.db
        .delete(questionAnswers)
        .where(eq(questionAnswers.id, id))
        .returning({ id: questionAnswers.id });
      return deleted.length > 0;
    });
  }

  /** Totals, and totals per group, over what the filter matches: see stats-query.ts. */
  stats(filter: StatsFilter, groupBy?: StatsGroupBy): Promise<StatsResult> {
    return this.run(() => statsOf(this.database, filter, groupBy));
  }

  /**
   * One batch of retention: the oldest rows first, found by the created_at index. Rows another
   * instance is deleting right now are skipped, not waited for, so every replica can run this
   * at once; each batch is its own short transaction, with short locks.
   */
  deleteCreatedBefore(cutoff: Date, limit: number): Promise<number> {
    return this.run(async () => {
      const deleted = await this.db
        .delete(questionAnswers)
        .where(
          sql`${questionAnswers.id} in (select id from ${questionAnswers}
                where created_at < ${cutoff.toISOString()}::timestamptz
                order by created_at limit ${limit} for update skip locked)`,
        )
        .returning({ id: questionAnswers.id });
      return deleted.length;
    });
  }

  /**
   * Indexes up to `limit` rows an older version stored without search terms (see
   * search-terms.ts), newest first; returns how many it looked at. Two statements and no
   * transaction (a client held across them would be one more thing a database restart can
   * break): a row whose outcome was recorded in between has another status or attempt, is
   * left alone and comes back in the next batch. Instances doing this at once write the same.
   */
  indexSearchTerms(limit: number): Promise<number> {
    return this.run(async () => {
      const rows = await this.db
        .select({
          id: questionAnswers.id,
          status: questionAnswers.status,
          attempt: questionAnswers.attempt,
          question: questionAnswers.question,
          answer: questionAnswers.answer,
        })
        .from(questionAnswers)
        .where(isNull(searchTermsColumn))
        .orderBy(desc(questionAnswers.id))
        .limit(limit);
      if (rows.length === 0) return 0;
      const indexed = rows.map(({ id, status, attempt, question, answer }) => ({
        id,
        status,
        attempt,
        terms: searchTerms(question, answer),
      }));
      await this.db.execute(
        sql`update ${questionAnswers} set search_terms = indexed.terms
              from jsonb_to_recordset(${JSON.stringify(indexed)}::jsonb)
                as indexed(id bigint, status text, attempt int, terms text[])
             where ${questionAnswers.id} = indexed.id and ${searchTermsColumn} is null
               and ${questionAnswers.status}::text = indexed.status
               and ${questionAnswers.attempt} = indexed.attempt`,
      );
      return rows.length;
    });
  }

  /**
   * Newest first, by id. Keyset paging: the page after id N is `id < N`, an index range
   * scan on the primary key, so page 10,000 costs what page 1 costs (OFFSET would not).
   * Search results keep this order rather than ranking by relevance, so that paging through
   * them stays exact while rows are added. A page ends early once its text passes
   * PAGE_MAX_TEXT_BYTES (it always holds at least one row); the next page goes on from there.
   */
  listPage(options: ListPageOptions): Promise<Page<QuestionAnswer>> {
    return this.run(async () => {
      if (options.search === undefined)
        return this.toPage(await this.select(options, 'by-id'), options.limit);
      // A search is planned twice over, because no one plan is fast for every word. Walking the
      // primary key newest first finds a common word's page at once, but crosses the whole table
      // for a word in few rows (on a million rows, half a second for a word in one row); the
      // full-text index finds a rare word at once, but collects every row of a common one. So:
      // the newest rows first, and the index only when they hold less than a page of matches.
      const recent = await this.select(options, 'newest-window');
      if (recent.length > options.limit) return this.toPage(recent, options.limit);
      return this.toPage(await this.select(options, 'by-match'), options.limit);
    });
  }

  private select(options: ListPageOptions, plan: 'by-id' | 'newest-window' | 'by-match') {
    const { limit, afterId } = options;
    const after = afterId === undefined ? undefined : lt(questionAnswers.id, afterId);
    return (
      this.db
        .select({
          ...columns,
          textBytes:
            sql<number>`octet_length(${questionAnswers.question}) + coalesce(octet_length(${questionAnswers.answer}), 0) + coalesce(octet_length(${questionAnswers.errorMessage}), 0)`.mapWith(
              Number,
            ),
        })
        .from(questionAnswers)
        .where(
          and(
            after,
            plan === 'newest-window'
              ? sql`${questionAnswers.id} >= (select min(id) from (select id from ${questionAnswers} ${after ? sql`where ${after}` : sql``} order by id desc limit ${SEARCH_WINDOW_ROWS}) as newest)`
              : undefined,
            matching(options),
          ),
        )
        // "+ 0" hides the key's order from the planner, so it finds the matches by the index.
        .orderBy(
          plan === 'by-match' ? sql`${questionAnswers.id} + 0 desc` : desc(questionAnswers.id),
        )
        .limit(limit + 1)
    );
  }

  private toPage(rows: (Row & { textBytes: number })[], limit: number): Page<QuestionAnswer> {
    const items: QuestionAnswer[] = [];
    let bytes = 0;
    for (const row of rows.slice(0, limit)) {
      bytes += row.textBytes;
      if (items.length > 0 && bytes > PAGE_MAX_TEXT_BYTES) break;
      items.push(toQuestionAnswer(row));
    }
    const hasMore = rows.length > items.length;
    return { items, nextAfterId: hasMore ? items.at(-1)?.id : undefined };
  }

  private run<T>(query: () => Promise<T>): Promise<T> {
    return runStatement(this.database, query);
  }
}
