import { INTERRUPTED } from '../domain/question-answer.js';
import type { Logger } from '../logger.js';
import type { Lease } from './lease.js';
import type { OutcomeRecorder } from './outcome-recorder.js';
import type { LeaseStore, QuestionStore } from './ports.js';

export interface RecoveryDeps {
  /** Spooled outcomes, replayed first. */
  outcomes: OutcomeRecorder;
  store: QuestionStore;
  /**
   * True when no other process can use the database (the embedded one, locked to this
   * process): a pending row of another process is then failed at once, not at its deadline.
   */
  exclusiveDatabase: boolean;
  /** On a shared database: this process's lease, by which others' dead processes are found. */
  lease?: Lease | undefined;
  /** Where the leases are kept (with `lease`). */
  leases?: LeaseStore | undefined;
  logger: Logger;
}

const FAILURE = {
  code: INTERRUPTED,
  message: 'askbase stopped before this question was answered; POST /qa/{id}/retry asks again',
};

/**
 * Crash recovery, at start and every SPOOL_REPLAY_INTERVAL_MS: spooled outcomes written to the
 * database, then the questions whose process died failed as interrupted (retryable).
 */
export class Recovery {
  constructor(private readonly deps: RecoveryDeps) {}

  /**
   * On PostgreSQL, fails the questions whose owner's lease expired (or an earlier process of
   * this instance), and those still pending `marginMs` after their attempt's deadline; on the
   * embedded database (one process only) every pending one another process owns, at once.
   */
  async run(marginMs: number): Promise<void> {
    const { outcomes, store, exclusiveDatabase, lease, leases, logger } = this.deps;
    // While spooled outcomes cannot be written the database is still away: recovery waits.
    if (!(await outcomes.replay())) return;
    const orphaned = lease && leases ? await leases.failOrphaned(lease.sweep(), FAILURE) : 0;
    const interrupted =
      orphaned +
      (exclusiveDatabase
        ? await store.failPendingOfOthers(FAILURE)
        : await store.failStalePending(marginMs, FAILURE));
    if (interrupted > 0) logger.warn({ interrupted }, 'marked interrupted questions as failed');
  }
}
