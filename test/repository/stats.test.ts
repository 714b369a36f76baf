import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { useAskbaseSuite } from '../helpers/suite.js';
import { expectError, expectOk } from '../helpers/http.js';
import { BOTH_DATABASES } from '../helpers/each-database.js';

interface StatsJson {
  asks: number;
  answered: number;
  failed: number;
  pending: number;
  failed_by_code: Record<string, number>;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number | null;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
}
interface StatsBody {
  totals: StatsJson;
  groups: ({ group: string | null } & StatsJson)[];
}

describe.each(BOTH_DATABASES)('GET /stats on $driver', { timeout: 120_000 }, ({ database }) => {
  const suite = useAskbaseSuite({ database, llm: 'none' });
  // A period of its own, long ago, so that no other row counts.
  const period = 'since=2001-02-01T00:00:00Z&until=2001-02-03T00:00:00Z';

  beforeAll(async () => {
    const answered = (
      model: string,
      key: string | null,
      day: string,
      latency: number,
      cost: number | null,
    ) =>
      sql`insert into question_answers (question, answer, status, model, prompt_tokens,
            completion_tokens, total_tokens, latency_ms, cost_usd, key_name, created_at, answered_at)
          values ('q', 'a', 'answered', ${model}, 10, 5, 15, ${latency}, ${cost}, ${key},
                  ${day}::timestamptz, ${day}::timestamptz)`;
    const failed = (code: string, key: string | null, day: string) =>
      sql`insert into question_answers (question, status, error_code, error_message, key_name, created_at)
          values ('q', 'failed', ${code}, 'm', ${key}, ${day}::timestamptz)`;
    const day1 = '2001-02-01T10:00:00Z';
    const day2 = '2001-02-02T10:00:00Z';
    for (const statement of [
      answered('gpt-5-mini', 'alice', day1, 100, 0.001),
      answered('gpt-5-mini', 'alice', day1, 200, 0.002),
      answered('gpt-5-mini', 'bob', day2, 300, 0.003),
      answered('local-llama', 'bob', day2, 1000, null),
      failed('llm_timeout', 'alice', day1),
      failed('llm_timeout', 'bob', day2),
      failed('llm_unavailable', 'bob', day2),
      // Outside the period: never counted.
      answered('gpt-5-mini', 'alice', '2001-02-03T00:00:00Z', 5000, 1),
    ]) {
      await suite.askbase.database.db.execute(statement);
    }
  });

  const stats = async (query: string) =>
    expectOk<StatsBody>(await fetch(`${suite.askbase.url}/stats?${period}&${query}`));

  it('when a period is asked for, then the totals count asks, outcomes, failures by code, tokens, cost and latency percentiles', async () => {
    const { totals, groups } = await stats('');

    expect(groups).toEqual([]);
    expect(totals).toEqual({
      asks: 7,
      answered: 4,
      failed: 3,
      pending: 0,
      failed_by_code: { llm_timeout: 2, llm_unavailable: 1 },
      prompt_tokens: 40,
      completion_tokens: 20,
      cost_usd: 0.006,
      // percentile_cont over 100, 200, 300, 1000
      latency_ms: { p50: 250, p95: 895, p99: 979 },
    });
  });

  it('when grouped by model, day or key, then each group has its own figures, in order', async () => {
    const byModel = await stats('group_by=model');
    const byDay = await stats('group_by=day');
    const byKey = await stats('group_by=key');

    expect(byModel.groups.map((g) => [g.group, g.asks, g.answered, g.cost_usd])).toEqual([
      ['gpt-5-mini', 3, 3, 0.006],
      ['local-llama', 1, 1, null],
      ['null', 3, 0, null].map((v) => (v === 'null' ? null : v)),
    ]);
    expect(byDay.groups.map((g) => [g.group, g.asks, g.failed_by_code])).toEqual([
      ['2001-02-01', 3, { llm_timeout: 1 }],
      ['2001-02-02', 4, { llm_timeout: 1, llm_unavailable: 1 }],
    ]);
    expect(byKey.groups.map((g) => [g.group, g.asks, g.latency_ms.p50])).toEqual([
      ['alice', 3, 150],
      ['bob', 4, 650],
    ]);
    expect(byKey.totals.asks).toBe(7);
  });

  it('when a key is given, then only its questions count', async () => {
    const { totals } = await stats('key=alice');
    expect([totals.asks, totals.failed, totals.cost_usd]).toEqual([3, 1, 0.003]);
  });

  it('when many latencies repeat or are missing, then the percentiles are those of percentile_cont, per group and in total', async () => {
    // A period of its own; latencies drawn with many ties, some rows without one (pending).
    const since = '2001-03-01T00:00:00Z';
    const until = '2001-03-03T00:00:00Z';
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let i = 0; i < 300; i += 1) {
      const latency = next() % 5 === 0 ? null : (next() % 40) * (next() % 50);
      const day = i % 3 === 0 ? '2001-03-01T12:00:00Z' : '2001-03-02T12:00:00Z';
      await suite.askbase.database.db.execute(
        sql`insert into question_answers (question, status, model, latency_ms, created_at)
            values ('q', 'pending', ${i % 2 === 0 ? 'even' : 'odd'}, ${latency}, ${day}::timestamptz)`,
      );
    }
    const expected = async (where: ReturnType<typeof sql>) => {
      const result = (await suite.askbase.database.db.execute(
        sql`select percentile_cont(array[0.5, 0.95, 0.99]) within group (order by latency_ms) as p
              from question_answers where created_at >= ${since}::timestamptz
               and created_at < ${until}::timestamptz and ${where}`,
      )) as { rows: { p: (number | string)[] | null }[] };
      const [p50, p95, p99] = (result.rows[0]?.p ?? []).map((v) => Math.round(Number(v)));
      return { p50, p95, p99 };
    };

    const byModel = await expectOk<StatsBody>(
      await fetch(`${suite.askbase.url}/stats?since=${since}&until=${until}&group_by=model`),
    );
    const byDay = await expectOk<StatsBody>(
      await fetch(`${suite.askbase.url}/stats?since=${since}&until=${until}&group_by=day`),
    );

    expect(byModel.totals.latency_ms).toEqual(await expected(sql`true`));
    expect(byModel.groups.map((g) => [g.group, g.latency_ms])).toEqual([
      ['even', await expected(sql`model = 'even'`)],
      ['odd', await expected(sql`model = 'odd'`)],
    ]);
    expect(byDay.groups.map((g) => [g.group, g.latency_ms])).toEqual([
      ['2001-03-01', await expected(sql`created_at < '2001-03-02T00:00:00Z'`)],
      ['2001-03-02', await expected(sql`created_at >= '2001-03-02T00:00:00Z'`)],
    ]);
  });

  it('when group_by or a period is not valid, then 400 invalid_request', async () => {
    await expectError(
      await fetch(`${suite.askbase.url}/stats?group_by=week`),
      400,
      'invalid_request',
    );
    await expectError(
      await fetch(
        `${suite.askbase.url}/stats?since=2001-02-03T00:00:00Z&until=2001-02-01T00:00:00Z`,
      ),
      400,
      'invalid_request',
    );
  });
});
