import { DatabaseUnavailableError } from '../errors.js';

/**
 * After the database was found away, the LLM is asked only once a row is stored, for this long
 * or until a row is stored again.
 */
const STORE_FIRST_AFTER_OUTAGE_MS = 10_000;

/** An upstream call started before its row is stored (see EarlyCalls.start). */
export interface EarlyCall<T> {
  /** Joined by the attempt once the row exists: its deadline and shutdown end the call. */
  join(signal: AbortSignal): Promise<T>;
  /** The row could not be stored: the call is ended. */
  cancel(): void;
}

/**
 * When a gateway may ask the LLM while it stores the exchange, so that storing adds no
 * latency: the call is joined by the attempt once the row exists, or cancelled when it cannot
 * be stored. While the database is away, nothing is asked that could not be stored.
 */
export class EarlyCalls {
  private storeFirstUntil = 0;

  /** Starts `ask` now, unless the database was just away (then undefined: store first). */
  start<T>(ask: (signal: AbortSignal) => Promise<T>): EarlyCall<T> | undefined {
    if (Date.now() < this.storeFirstUntil) return undefined;
    const controller = new AbortController();
    const work = ask(controller.signal);
    work.catch(() => undefined); // a cancelled call's failure is expected
    return {
      join(signal) {
        if (signal.aborted) controller.abort(signal.reason);
        else
          signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
        return work;
      },
      cancel() {
        controller.abort();
      },
    };
  }

  /** A row was stored: the database is back. */
  stored(): void {
    this.storeFirstUntil = 0;
  }

  /** Storing failed with `error`: after an outage, the next calls store first. */
  failed(error: unknown): void {
    if (error instanceof DatabaseUnavailableError) {
      this.storeFirstUntil = Date.now() + STORE_FIRST_AFTER_OUTAGE_MS;
    }
  }
}
