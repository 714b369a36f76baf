import { and, desc, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { questionAnswers } from '../db/schema.js';
import type { Page, QuestionAnswer } from '../domain/question-answer.js';
import type { ListPageOptions } from '../qa/ports.js';
import { type Row, columns, toQuestionAnswer } from './question-columns.js';
import { matching } from './question-filters.js';

/** A page of a listing stops adding rows once their text passes this many bytes (1 MiB). */
export const PAGE_MAX_TEXT_BYTES = 1_048_576;

/** A search looks in this many of the newest rows first (see listPage). */
export const SEARCH_WINDOW_ROWS = 5_000;

/**
 * Newest first, by id. Keyset paging: the page after id N is `id < N`, an index range
 * scan on the primary key, so page 10,000 costs what page 1 costs (OFFSET would not).
 * Search results keep this order rather than ranking by relevance, so that paging through
 * them stays exact while rows are added. A page ends early once its text passes
 * PAGE_MAX_TEXT_BYTES (it always holds at least one row); the next page goes on from there.
 */
export async function listPage(
  database: Database,
  options: ListPageOptions,
): Promise<Page<QuestionAnswer>> {
  if (options.search === undefined)
    return toPage(await select(database, options, 'by-id'), options.limit);
  // A search is planned twice over, because no one plan is fast for every word. Walking the
  // primary key newest first finds a common word's page at once, but crosses the whole table
  // for a word in few rows (on a million rows, half a second for a word in one row); the
  // full-text index finds a rare word at once, but collects every row of a common one. So:
  // the newest rows first, and the index only when they hold less than a page of matches.
  const recent = await select(database, options, 'newest-window');
  if (recent.length > options.limit) return toPage(recent, options.limit);
  return toPage(await select(database, options, 'by-match'), options.limit);
}

function select(
  database: Database,
  options: ListPageOptions,
  plan: 'by-id' | 'newest-window' | 'by-match',
) {
  const { limit, afterId } = options;
  const after = afterId === undefined ? undefined : lt(questionAnswers.id, afterId);
  return (
    database.db
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
      .orderBy(plan === 'by-match' ? sql`${questionAnswers.id} + 0 desc` : desc(questionAnswers.id))
      .limit(limit + 1)
  );
}

function toPage(rows: (Row & { textBytes: number })[], limit: number): Page<QuestionAnswer> {
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
