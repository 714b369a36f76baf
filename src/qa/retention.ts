import type { Logger } from '../logger.js';
import type { QuestionStore } from './ports.js';

const DAY_MS = 86_400_000;
/** Rows per delete: a short transaction and short locks each, however much is due. */
export const RETENTION_BATCH_ROWS = 1_000;

/**
 * RETENTION_DAYS: deletes the questions created longer ago, a batch at a time, oldest first.
 * Every instance may run it at once (a batch skips rows another is deleting).
 */
export class Retention {
  constructor(
    private readonly deps: {
      store: Pick<QuestionStore, 'deleteCreatedBefore'>;
      days: number;
      logger: Logger;
      /** Counts the deleted rows (askbase_retention_deleted_total). */
      deleted: (count: number) => void;
    },
  ) {}

  /** Deletes everything created more than `days` before `now`; returns how many rows. */
  async purge(now: Date = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.deps.days * DAY_MS);
    let total = 0;
    for (;;) {
      const deleted = await this.deps.store.deleteCreatedBefore(cutoff, RETENTION_BATCH_ROWS);
      total += deleted;
      this.deps.deleted(deleted);
      if (deleted < RETENTION_BATCH_ROWS) break;
    }
    if (total > 0) {
      this.deps.logger.info(
        { deleted: total, createdBefore: cutoff.toISOString(), days: this.deps.days },
        `retention: deleted ${total} questions created before ${cutoff.toISOString()}`,
      );
    }
    return total;
  }
}
