import { desc, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { questionAnswers } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { searchTerms } from './search-terms.js';

/** Rows per batch: two short statements, however many are left. */
export const BACKFILL_BATCH_ROWS = 500;

/** Indexes a batch of rows stored without search terms (QuestionRepository.indexSearchTerms). */
export interface SearchTermsIndexer {
  indexSearchTerms(limit: number): Promise<number>;
}

/**
 * Gives the rows an older version stored (before search terms existed, or during a rolling
 * upgrade) their search terms, a batch at a time, until none is left; returns how many.
 * Every instance may run it at once; `signal` (shutdown) stops it between batches.
 */
export async function backfillSearchTerms(
  repository: SearchTermsIndexer,
  logger: Logger,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const indexed = await repository.indexSearchTerms(BACKFILL_BATCH_ROWS);
    total += indexed;
    if (indexed < BACKFILL_BATCH_ROWS) break;
  }
  if (total > 0) logger.info({ indexed: total }, `search: indexed ${total} earlier questions`);
  return total;
}

/**
 * One batch: indexes up to `limit` rows stored without search terms (see search-terms.ts),
 * newest first; returns how many it looked at. Two statements and no transaction (a client
 * held across them would be one more thing a database restart can break): a row whose outcome
 * was recorded in between has another status or attempt, is left alone and comes back in the
 * next batch. Instances doing this at once write the same.
 */
export async function indexUnindexedRows(database: Database, limit: number): Promise<number> {
  const rows = await database.db
    .select({
      id: questionAnswers.id,
      status: questionAnswers.status,
      attempt: questionAnswers.attempt,
      question: questionAnswers.question,
      answer: questionAnswers.answer,
    })
    .from(questionAnswers)
    .where(isNull(questionAnswers.searchTerms))
    .orderBy(desc(questionAnswers.id))
    .limit(limit);
  if (rows.length === 0) return 0;
  const indexed = rows.map(({ id, status, attempt, question, answer }) => ({
    id,
    status,
    attempt,
    terms: searchTerms(question, answer),
  }));
  await database.db.execute(
    sql`update ${questionAnswers} set search_terms = indexed.terms
          from jsonb_to_recordset(${JSON.stringify(indexed)}::jsonb)
            as indexed(id bigint, status text, attempt int, terms text[])
         where ${questionAnswers.id} = indexed.id and ${questionAnswers.searchTerms} is null
           and ${questionAnswers.status}::text = indexed.status
           and ${questionAnswers.attempt} = indexed.attempt`,
  );
  return rows.length;
}
