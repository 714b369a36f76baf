import { and, desc, eq, getTableColumns, gte, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { questionAnswers } from '../db/schema.js';
import type { Answer, ListFilter, Page, QuestionAnswer } from '../qa/question-answer.js';

// Every column but the search vector, which only the database needs: it is as large as the
// question and answer together.
const { searchVector, ...columns } = getTableColumns(questionAnswers);
type Row = Omit<typeof questionAnswers.$inferSelect, 'searchVector'>;

/**
 * The data access layer: every query askbase makes lives here. Each method is one statement,
 * so each runs in its own implicit transaction and holds a pooled connection only for that
 * statement; nothing here ever waits on the LLM.
 */
export class QuestionRepository {
  constructor(private readonly db: Db) {}

  async createPending(question: string): Promise<QuestionAnswer> {
    const [row] = await this.db.insert(questionAnswers).values({ question }).returning(columns);
    return toQuestionAnswer(expectRow(row));
  }

  /** Records the answer; undefined when the row is gone or no longer pending. */
  async markAnswered(id: number, answer: Answer): Promise<QuestionAnswer | undefined> {
    const [row] = await this.db
      .update(questionAnswers)
      .set({
        status: 'answered',
        answer: answer.text,
        model: answer.model,
        promptTokens: answer.usage?.promptTokens ?? null,
        completionTokens: answer.usage?.completionTokens ?? null,
        totalTokens: answer.usage?.totalTokens ?? null,
        latencyMs: answer.latencyMs,
        answeredAt: new Date(),
        errorCode: null,
        errorMessage: null,
      })
      .where(and(eq(questionAnswers.id, id), eq(questionAnswers.status, 'pending')))
      .returning(columns);
    return row && toQuestionAnswer(row);
  }

  /** Records why the question got no answer; undefined when the row is gone or no longer pending. */
  async markFailed(
    id: number,
    error: { code: string; message: string; latencyMs?: number },
  ): Promise<QuestionAnswer | undefined> {
    const [row] = await this.db
      .update(questionAnswers)
      .set({
        status: 'failed',
        errorCode: error.code,
        errorMessage: error.message,
        latencyMs: error.latencyMs ?? null,
      })
      .where(and(eq(questionAnswers.id, id), eq(questionAnswers.status, 'pending')))
      .returning(columns);
    return row && toQuestionAnswer(row);
  }

  async get(id: number): Promise<QuestionAnswer | undefined> {
    const [row] = await this.db
      .select(columns)
      .from(questionAnswers)
      .where(eq(questionAnswers.id, id));
    return row && toQuestionAnswer(row);
  }

  async delete(id: number): Promise<boolean> {
    const deleted = await this.db
      .delete(questionAnswers)
      .where(eq(questionAnswers.id, id))
      .returning({ id: questionAnswers.id });
    return deleted.length > 0;
  }

  /**
   * Newest first, by id. Keyset paging: the page after id N is `id < N`, an index range
   * scan on the primary key, so page 10,000 costs what page 1 costs (OFFSET would not).
   * Search results keep this order rather than ranking by relevance, so that paging through
   * them stays exact while rows are added.
   */
  async listPage(
    options: { limit: number; afterId?: number } & ListFilter,
  ): Promise<Page<QuestionAnswer>> {
    const { limit, afterId, search, status, since, until } = options;
    const rows = await this.db
      .select(columns)
      .from(questionAnswers)
      .where(
        and(
          afterId === undefined ? undefined : lt(questionAnswers.id, afterId),
          status === undefined ? undefined : eq(questionAnswers.status, status),
          since === undefined ? undefined : gte(questionAnswers.createdAt, since),
          until === undefined ? undefined : lt(questionAnswers.createdAt, until),
          search === undefined
            ? undefined
            : sql`${searchVector} @@ websearch_to_tsquery('english', ${search})`,
        ),
      )
      .orderBy(desc(questionAnswers.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toQuestionAnswer);
    const hasMore = rows.length > limit;
    return { items, nextAfterId: hasMore ? items.at(-1)?.id : undefined };
  }
}

function expectRow(row: Row | undefined): Row {
  if (!row) throw new Error('insert returned no row');
  return row;
}

function toQuestionAnswer(row: Row): QuestionAnswer {
  return {
    id: row.id,
    question: row.question,
    answer: row.answer,
    status: row.status,
    createdAt: row.createdAt,
    answeredAt: row.answeredAt,
    model: row.model,
    usage:
      row.promptTokens !== null && row.completionTokens !== null && row.totalTokens !== null
        ? {
            promptTokens: row.promptTokens,
            completionTokens: row.completionTokens,
            totalTokens: row.totalTokens,
          }
        : null,
    latencyMs: row.latencyMs,
    error: row.errorCode !== null ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
  };
}
