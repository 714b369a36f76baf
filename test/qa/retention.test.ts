import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { RETENTION_BATCH_ROWS } from '../../src/qa/retention.js';
import type { RunningAskbase } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { BOTH_DATABASES } from '../helpers/each-database.js';

const DAY_MS = 86_400_000;

describe.each(BOTH_DATABASES)('RETENTION_DAYS on $driver', { timeout: 120_000 }, ({ database }) => {
  const suite = useAskbaseSuite({
    database,
    llm: 'none',
    env: { RETENTION_DAYS: '30' },
    captureLogs: true,
  });

  /**
   * The purge is run "at" an hour from now, so rows dated against that moment are never due
   * for the job askbase runs by itself, and the test alone decides when they go.
   */
  const at = () => new Date(Date.now() + 3_600_000);

  async function insertAt(createdAt: Date, question: string, count = 1): Promise<number[]> {
    const result = await suite.askbase.database.db.execute(
      sql`insert into question_answers (question, created_at)
          select ${question}, ${createdAt.toISOString()}::timestamptz
            from generate_series(1, ${count}::int)
          returning id`,
    );
    return (result as { rows: { id: number | string }[] }).rows.map((row) => Number(row.id));
  }
  const exists = async (id: number) =>
    (await fetch(`${suite.askbase.url}/qa/${id}`)).status === 200;

  it('when a question was created one second more than 30 days ago it is deleted, and one created one second less than 30 days ago stays', async () => {
    const now = at();
    const [outside] = await insertAt(new Date(now.getTime() - 30 * DAY_MS - 1_000), 'Too old');
    const [inside] = await insertAt(new Date(now.getTime() - 30 * DAY_MS + 1_000), 'Just in time');

    const deleted = await suite.askbase.retention!.purge(now);

    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await exists(outside!)).toBe(false);
    expect(await exists(inside!)).toBe(true);
    const line = suite.askbase.logs.find(
      (log) => typeof log.msg === 'string' && log.msg.startsWith('retention: deleted'),
    );
    expect(line).toMatchObject({ days: 30, deleted: expect.any(Number) });
    expect(JSON.stringify(line)).not.toContain('Too old');
    const metrics = await (await fetch(`${suite.askbase.url}/metrics`)).text();
    expect(metrics).toMatch(/^askbase_retention_deleted_total [1-9]\d*$/m);
  });

  it('when more questions are due than one batch holds, then every one is deleted, batch after batch, and newer ones stay', async () => {
    const now = at();
    const due = RETENTION_BATCH_ROWS * 2 + 500;
    await insertAt(new Date(now.getTime() - 40 * DAY_MS), 'Long gone', due);
    const [recent] = await insertAt(new Date(now.getTime() - 2 * DAY_MS), 'Recent');

    expect(await suite.askbase.retention!.purge(now)).toBe(due);
    expect(await suite.askbase.retention!.purge(now)).toBe(0);
    expect(await exists(recent!)).toBe(true);
  });
});

describe('RETENTION_DAYS with several instances on one PostgreSQL', { timeout: 120_000 }, () => {
  const suite = useAskbaseSuite({ llm: 'none', askbase: false, env: { RETENTION_DAYS: '7' } });
  const instances: RunningAskbase[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i += 1) instances.push(await suite.start());
  });

  it('when every instance purges at once, then each due row is deleted exactly once and none fails', async () => {
    const now = new Date(Date.now() + 3_600_000);
    const due = 5_000;
    await suite.db.query(
      `insert into question_answers (question, created_at)
       select 'Shared and old', $1::timestamptz from generate_series(1, $2::int)`,
      [new Date(now.getTime() - 8 * DAY_MS).toISOString(), due],
    );

    const counts = await Promise.all(instances.map((instance) => instance.retention!.purge(now)));

    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(due);
    const [left] = await suite.db.query<{ n: number }>(
      `select count(*)::int as n from question_answers where question = 'Shared and old'`,
    );
    expect(left?.n).toBe(0);
  });
});

describe('RETENTION_DAYS unset', () => {
  const suite = useAskbaseSuite({ llm: 'none', askbase: false });

  it('when it is not set, then there is no retention job and nothing is deleted', async () => {
    // A first start migrates the database; the second finds the old row already there.
    await (await suite.start()).stop();
    await suite.db.query(
      `insert into question_answers (question, created_at) values ('Ancient', '2001-01-01T00:00:00Z')`,
    );
    const askbase = await suite.start();
    expect(askbase.retention).toBeUndefined();
    const [row] = await suite.db.query<{ n: number }>(
      'select count(*)::int as n from question_answers',
    );
    expect(row?.n).toBe(1);
  });
});
