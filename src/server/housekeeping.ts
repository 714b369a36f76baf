import type { Logger } from '../logger.js';

/** How often the housekeeping jobs run; they also run once the database is ready. */
export const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

/** A job of the housekeeping; a failure is logged as `${name} deferred` and tried next time. */
export interface HousekeepingJob {
  name: string;
  /** `signal` aborts when askbase stops: a long job ends between its steps. */
  run(signal: AbortSignal): Promise<unknown>;
}

export interface HousekeepingOptions {
  /** Crash recovery, run every `recoveryIntervalMs` (SPOOL_REPLAY_INTERVAL_MS). */
  recover: () => Promise<unknown>;
  recoveryIntervalMs: number;
  /** Run one after another, every HOUSEKEEPING_INTERVAL_MS; absent ones are skipped. */
  jobs: (HousekeepingJob | undefined)[];
  /** Aborts when askbase stops. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * The timers of the work that runs beside the requests: crash recovery, often, and the
 * housekeeping jobs (retention, the search backfill, forgetting old counts and leases), every
 * ten minutes. Each starts once the database is ready; a run asked for while one is in
 * progress joins it, so neither ever runs twice at once.
 */
export class Housekeeping {
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private recovering: Promise<void> | undefined;
  private housekeeping: Promise<void> | undefined;

  constructor(private readonly options: HousekeepingOptions) {}

  /** Crash recovery now, or the run in progress. */
  recover(): Promise<void> {
    const { recover, logger } = this.options;
    return (this.recovering ??= recover()
      .then(() => undefined)
      .catch((error: unknown) => logger.warn({ err: error }, 'recovery deferred'))
      .finally(() => (this.recovering = undefined)));
  }

  /** The housekeeping jobs now, or the run in progress. */
  housekeep(): Promise<void> {
    const { jobs, signal, logger } = this.options;
    return (this.housekeeping ??= (async () => {
      for (const job of jobs) {
        if (!job) continue;
        await job
          .run(signal)
          .catch((error: unknown) => logger.warn({ err: error }, `${job.name} deferred`));
      }
    })().finally(() => (this.housekeeping = undefined)));
  }

  /** Once the database is ready: recovery, then both on their timers (the housekeeping at once). */
  async start(): Promise<void> {
    await this.recover();
    if (this.stopped) return;
    this.every(this.options.recoveryIntervalMs, () => this.recover());
    void this.housekeep();
    this.every(HOUSEKEEPING_INTERVAL_MS, () => this.housekeep());
  }

  /** Ends the timers (askbase is stopping); runs in progress finish (see settled). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
  }

  /** Resolves once the runs in progress are over. */
  async settled(): Promise<void> {
    await this.recovering;
    await this.housekeeping;
  }

  private every(ms: number, run: () => Promise<void>) {
    const timer = setInterval(() => void run(), ms);
    // Timers never hold the process open: app.close() is what ends it.
    timer.unref();
    this.timers.push(timer);
  }
}
