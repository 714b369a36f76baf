import { setTimeout as sleep } from 'node:timers/promises';
import type { QuestionAnswer } from '../domain/question-answer.js';
import { DatabaseUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OutcomeSpool, ReplayResult, SpooledOutcome } from './outcome-spool.js';
import type { QuestionStore } from './ports.js';

export interface OutcomeRecorderDeps {
  store: QuestionStore;
  spool: OutcomeSpool;
  /** Attempts to store an outcome, with exponential backoff from `storeBackoffMs`. */
  storeAttempts: number;
  storeBackoffMs: number;
  /**
   * In a spool directory several hosts share (SPOOL_DIR): this process's lease owner, and
   * whether another owner's process is gone (its lease expired), so that its spool is claimed.
   */
  foreign?: { owner: string; gone: (owner: string) => Promise<boolean> } | undefined;
  logger: Logger;
}

/**
 * Durability of an outcome (an answer, or why there is none): stored in the database, retried
 * while it is unavailable, spooled to an fsynced file when it stays away, and replayed from
 * there later. Nothing here knows about the LLM or HTTP.
 */
export class OutcomeRecorder {
  constructor(private readonly deps: OutcomeRecorderDeps) {}

  /**
   * Stores an outcome, retrying with backoff while the database is unavailable; if it stays
   * away, spools the outcome to disk. Undefined when the row was not updated (deleted
   * meanwhile, owned by another attempt, or spooled).
   */
  async record(outcome: SpooledOutcome): Promise<QuestionAnswer | undefined> {
    const { storeAttempts, storeBackoffMs, spool, logger } = this.deps;
    for (let attempt = 1; attempt <= storeAttempts; attempt += 1) {
      try {
        return await this.apply(outcome);
      } catch (error) {
        if (!(error instanceof DatabaseUnavailableError)) {
          logger.error({ err: error, questionId: outcome.id }, 'storing an outcome failed');
          break;
        }
        if (attempt < storeAttempts) await sleep(storeBackoffMs * 2 ** (attempt - 1));
      }
    }
    await spool.append(outcome);
    logger.warn({ questionId: outcome.id, kind: outcome.kind }, 'outcome spooled to disk');
    return undefined;
  }

  /** Writes spooled outcomes to the database; true when the spool is empty afterwards. */
  async replay(): Promise<boolean> {
    const { spool, logger } = this.deps;
    const apply = (outcome: SpooledOutcome) => this.applySpooled(outcome);
    await spool.replay(apply);
    await this.claimForeign();
    // Outcomes a process that is gone spooled beside ours: nobody else would write them.
    for (const orphan of await spool.adoptAbandoned()) {
      try {
        logger.warn({ spool: orphan.directory }, 'replaying the spool of a process that is gone');
        await orphan.replay(apply);
      } finally {
        orphan.close();
      }
    }
    return spool.size() === 0;
  }

  /** The spools of other hosts whose process is gone become this host's, to replay below. */
  private async claimForeign(): Promise<void> {
    const { spool, foreign, logger } = this.deps;
    if (!foreign) return;
    for (const { directory, owner } of await spool.foreignSlots()) {
      if (!(await foreign.gone(owner))) continue;
      if (await spool.claim(directory, foreign.owner)) {
        logger.warn({ spool: directory }, 'claimed the spool of a process on a host that is gone');
      }
    }
  }

  private apply(outcome: SpooledOutcome): Promise<QuestionAnswer | undefined> {
    const { store } = this.deps;
    // Outcomes spooled before attempts were recorded belong to the first attempt.
    const attempt = outcome.attempt ?? 1;
    return outcome.kind === 'answered'
      ? store.markAnswered(outcome.id, attempt, outcome.answer, new Date(outcome.answeredAt))
      : store.markFailed(outcome.id, attempt, outcome);
  }

  private async applySpooled(outcome: SpooledOutcome): Promise<ReplayResult> {
    try {
      await this.apply(outcome);
      return 'applied';
    } catch (error) {
      if (error instanceof DatabaseUnavailableError) return 'retry-later';
      this.deps.logger.error({ err: error, questionId: outcome.id }, 'spooled outcome failed');
      return 'rejected';
    }
  }
}
