import { type SQL, and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { questionAnswers } from '../db/schema.js';
import type {
  Page,
  QuestionAnswer,
  StatsGroupBy,
  StoredAnswer,
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
import { answeredParams } from './answered-row.js';
import { cachedRow } from './cached-row.js';
import { type PendingParams, pendingParams, pendingRow } from './pending-row.js';
import { prepareStatements } from './prepared-statements.js';
import { columns, ownedOpenRow, toQuestionAnswer } from './question-columns.js';
import { listPage } from './question-listing.js';
import { indexUnindexedRows } from './search-backfill.js';
import { searchTerms } from './search-terms.js';
import { runStatement } from './statements.js';
import { statsOf } from './stats-query.js';

const { searchTerms: searchTermsColumn } = questionAnswers;

/**
 * The question store (qa/ports.ts) over PostgreSQL or PGlite. Each method is one statement,
 * so each runs in its own implicit transaction and holds a pooled connection only for that
 * statement; nothing here ever waits on the LLM. A database that cannot be reached surfaces as
 * DatabaseUnavailableError, whatever the driver said.
 */
export class QuestionRepository implements QuestionStore {
  private readonly statements;

  constructor(
    private readonly database: Database,
    /** This process's id, stamped on each pending row it owns (see `owner` in the schema). */
    private readonly owner: string | null = null,
  ) {
    this.statements = prepareStatements(database);
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
    options: CreatePendingOptions,
  ): Promise<CreatePendingResult> {
    return this.run(async () => {
      const params = pendingParams(question, options, this.owner);
      const { follows } = options;
      if (follows?.parentAnswered && follows.parentId !== null) {
        return this.createFollowing(params, follows.parentId);
      }
      // The conversation is named by its first turn, which learns it when a second follows.
      if (follows?.nameFirst) {
        await this.statements.nameConversation.execute({ id: follows.conversationId });
      }
      const [row] = await this.statements.insertPending.execute(params);
      if (row) return { created: true, questionAnswer: toQuestionAnswer(row) };
      return {
        created: false,
        questionAnswer: await this.byIdempotencyKey(params.idempotencyKey),
      };
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
      if (options.follows?.nameFirst) {
        await this.statements.nameConversation.execute({ id: options.follows.conversationId });
      }
      const [row] = await this.db
        .insert(questionAnswers)
        .values(cachedRow(question, source, options))
        .onConflictDoNothing({ target: questionAnswers.idempotencyKey })
        .returning(columns);
      if (row) return { created: true, questionAnswer: toQuestionAnswer(row) };
      return {
        created: false,
        questionAnswer: await this.byIdempotencyKey(options.idempotencyKey ?? null),
      };
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
        ...answeredParams(answer, answeredAt),
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

  /** One batch of the search terms' backfill: see search-backfill.ts. */
  indexSearchTerms(limit: number): Promise<number> {
    return this.run(() => indexUnindexedRows(this.database, limit));
  }

  /** Newest first, a keyset page at a time: see question-listing.ts. */
  listPage(options: ListPageOptions): Promise<Page<QuestionAnswer>> {
    return this.run(() => listPage(this.database, options));
  }

  private run<T>(query: () => Promise<T>): Promise<T> {
    return runStatement(this.database, query);
  }
}
