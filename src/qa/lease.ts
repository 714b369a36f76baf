import type { Logger } from '../logger.js';
import type { LeaseStore, OrphanSweep } from './ports.js';

export interface LeaseOptions {
  store: LeaseStore;
  /** This process (see `owner` in the schema). */
  owner: string;
  /** What it is an instance of: its host and spool. */
  instance: string;
  /** LEASE_TTL_MS: how long after its last heartbeat a process counts as gone. */
  ttlMs: number;
  logger: Logger;
}

/** Heartbeats per TTL: a few may be lost before a live process looks gone. */
const BEATS_PER_TTL = 5;

/**
 * This process's lease on a shared database: a heartbeat every fifth of LEASE_TTL_MS. It also
 * says when this process may take another's expired lease for a dead process: only once its
 * own heartbeat has held without a gap for a whole TTL. After the database was away, or this
 * process was paused, every lease looks old for a moment, its own included; judging then
 * would fail live asks of processes that are simply renewing too.
 */
export class Lease {
  private timer: NodeJS.Timeout | undefined;
  /** Since when (performance.now) the heartbeat has held without a gap; undefined: it broke. */
  private heldSince: number | undefined;
  private lastBeat: number | undefined;
  private warned = false;

  constructor(private readonly options: LeaseOptions) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.ttlMs / BEATS_PER_TTL);
    this.timer.unref();
  }

  /** Which rows a recovery may fail now (see LeaseStore.failOrphaned). */
  sweep(): OrphanSweep {
    const { owner, instance, ttlMs } = this.options;
    const now = performance.now();
    const judgeOthers =
      this.heldSince !== undefined &&
      this.lastBeat !== undefined &&
      now - this.heldSince >= ttlMs &&
      now - this.lastBeat <= ttlMs / 2;
    return { owner, instance, ttlMs, judgeOthers };
  }

  /**
   * Whether `other`'s process is gone: its lease expired, as this process may judge now. A
   * spool in a shared SPOOL_DIR is claimed only then.
   */
  async isGone(other: string): Promise<boolean> {
    return this.sweep().judgeOthers && this.options.store.expired(other, this.options.ttlMs);
  }

  /** Stops the heartbeat and gives the lease up (at shutdown, once asks are stored). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.options.store.release(this.options.owner).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const { store, owner, ttlMs, logger } = this.options;
    const started = performance.now();
    try {
      await store.renew(owner);
    } catch (error) {
      this.heldSince = undefined;
      if (!this.warned) logger.warn({ err: error }, 'lease heartbeat failed; retrying');
      this.warned = true;
      return;
    }
    this.warned = false;
    const now = performance.now();
    // A gap (a pause, a slow database): others may have judged this process meanwhile.
    if (this.lastBeat === undefined || started - this.lastBeat > ttlMs / 2) this.heldSince = now;
    this.heldSince ??= now;
    this.lastBeat = now;
  }
}
