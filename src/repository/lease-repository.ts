import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { leases, questionAnswers } from '../db/schema.js';
import type { Failure, LeaseStore, OrphanSweep } from '../qa/ports.js';
import { runStatement } from './statements.js';

const q = questionAnswers;

/** A lease this long expired has long had its rows failed: it goes. */
const FORGET_AFTER = sql`interval '1 day'`;

/** Leases on PostgreSQL, timed by the database's clock alone: no process's clock matters. */
export class LeaseRepository implements LeaseStore {
  constructor(private readonly database: Database) {}

  renew(owner: string): Promise<void> {
    return runStatement(this.database, async () => {
      await this.database.db
        .insert(leases)
        .values({ owner, heartbeatAt: sql`now()` })
        .onConflictDoUpdate({ target: leases.owner, set: { heartbeatAt: sql`now()` } });
    });
  }

  release(owner: string): Promise<void> {
    return runStatement(this.database, async () => {
      await this.database.db.delete(leases).where(eq(leases.owner, owner));
    });
  }

  expired(owner: string, ttlMs: number): Promise<boolean> {
    return runStatement(this.database, async () => {
      const fresh = await this.database.db
        .select({ owner: leases.owner })
        .from(leases)
        .where(
          sql`${leases.owner} = ${owner} and ${leases.heartbeatAt} > now() - ${ttlMs} * interval '1 millisecond'`,
        );
      return fresh.length === 0;
    });
  }

  failOrphaned(
    { owner, instance, ttlMs, judgeOthers }: OrphanSweep,
    failure: Failure,
  ): Promise<number> {
    // An earlier process of this instance is gone for certain: this one holds its spool.
    const earlierOfMine = sql`left(${q.owner}, ${instance.length + 1}) = ${`${instance}#`}`;
    const leaseExpired = sql`not exists (
      select 1 from ${leases}
       where ${leases.owner} = ${q.owner}
         and ${leases.heartbeatAt} > now() - ${ttlMs} * interval '1 millisecond')`;
    return runStatement(this.database, async () => {
      const rows = await this.database.db
        .update(q)
        .set({ status: 'failed', errorCode: failure.code, errorMessage: failure.message })
        .where(
          sql`${q.status} = 'pending' and ${q.owner} is not null and ${q.owner} <> ${owner}
              and (${earlierOfMine}${judgeOthers ? sql` or ${leaseExpired}` : sql``})`,
        )
        .returning({ id: q.id });
      return rows.length;
    });
  }

  forgetExpired(): Promise<void> {
    return runStatement(this.database, async () => {
      await this.database.db
        .delete(leases)
        .where(sql`${leases.heartbeatAt} < now() - ${FORGET_AFTER}`);
    });
  }
}
