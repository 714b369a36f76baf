import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { rateLimitHits } from '../db/schema.js';
import { rowsOf, runStatement } from './statements.js';

/** One more hit for a client in the current window, and where that window stands. */
export interface RateLimitHit {
  hits: number;
  resetInMs: number;
}

/**
 * Rate-limit counts in PostgreSQL (RATE_LIMIT_STORE=database): one row per client, in windows
 * of `windowMs` timed by the database's clock, so every process on the database counts into
 * the same window whatever its own clock says. One statement per hit: an upsert that adds to
 * the current window or starts a new one.
 */
export class RateLimitCounter {
  constructor(private readonly database: Database) {}

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    const length = sql`${windowMs} * interval '1 millisecond'`;
    // A window begins with a client's first hit after the last one ended, as in memory.
    const open = sql`${rateLimitHits.windowStart} > now() - ${length}`;
    const [row] = await runStatement(this.database, () =>
      rowsOf<{ hits: number | string; reset_in_ms: number | string }>(
        this.database,
        sql`
        insert into ${rateLimitHits} (key, window_start, hits) values (${key}, now(), 1)
        on conflict (key) do update
          set hits = case when ${open} then ${rateLimitHits.hits} + 1 else 1 end,
              window_start = case when ${open} then ${rateLimitHits.windowStart} else now() end
        returning hits,
                  ceil(extract(epoch from window_start + ${length} - now()) * 1000) as reset_in_ms`,
      ),
    );
    return {
      hits: Number(row?.hits ?? 1),
      resetInMs: Math.max(0, Number(row?.reset_in_ms ?? 0)),
    };
  }

  /** Forgets clients whose window began over two days ago (longer than any window); returns how many. */
  async forgetIdle(): Promise<number> {
    const forgotten = await runStatement(this.database, () =>
      rowsOf(
        this.database,
        sql`delete from ${rateLimitHits} where window_start < now() - interval '2 days' returning key`,
      ),
    );
    return forgotten.length;
  }
}
