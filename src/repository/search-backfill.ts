import type { Logger } from '../logger.js';
import type { QuestionRepository } from './question-repository.js';

/** Rows per batch: two short statements, however many are left. */
export const BACKFILL_BATCH_ROWS = 500;

/**
 * Gives the rows an older version stored (before search terms existed, or during a rolling
 * upgrade) their search terms, a batch at a time, until none is left; returns how many.
 * Every instance may run it at once; `signal` (shutdown) stops it between batches.
 */
export async function backfillSearchTerms(
  repository: Pick<QuestionRepository, 'indexSearchTerms'>,
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
