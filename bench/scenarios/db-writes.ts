/** Scenario (j): askbase's writes alone, straight to PostgreSQL, at two client counts. */
import pg from 'pg';
import { fmt } from '../lib/format.js';
import { log } from '../lib/log.js';
import type { Results } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import type { DbWritesResult } from '../lib/scenario-results.js';

const DATABASE = 'askbase_writes';

export const dbWrites: Scenario = {
  id: 'j',
  title: 'askbase’s writes alone on PostgreSQL',
  databases: [DATABASE],
  async run({ config, pg }) {
    const dbWrites: DbWritesResult[] = [];
    for (const connections of [10, 50]) {
      const result = await measureDbWrites({
        url: pg.url(DATABASE),
        connections,
        seconds: config.durationS,
      });
      log(`(j) ${connections} clients: ${result.asksPerSecond} asks/s of writes`);
      dbWrites.push(result);
    }
    return { dbWrites };
  },
  targets: () => [],
  render,
};

/** Each ask's two statements (insert the pending row, record its answer) from a `pg` pool. */
function render({ dbWrites }: Results): string[] {
  if (!dbWrites) return [];
  return [
    '| clients | asks/s | bytes per row (with indexes) |',
    '| --: | --: | --: |',
    ...dbWrites.map(
      (run) => `| ${run.connections} | ${fmt(run.asksPerSecond)} | ${fmt(run.bytesPerRow)} |`,
    ),
  ];
}

/**
 * Scenario (j): what one PostgreSQL takes of askbase's writes alone, without askbase: each
 * "ask" is the insert of a pending row and the update that records its answer, the statements
 * askbase runs (search terms, tokens, cost and all), from `connections` clients at once.
 */
export async function measureDbWrites(options: {
  url: string;
  connections: number;
  seconds: number;
}): Promise<DbWritesResult> {
  const pool = new pg.Pool({ connectionString: options.url, max: options.connections });
  const before = await pool.query<{ n: string; bytes: string }>(
    `select count(*) as n, pg_total_relation_size('question_answers') as bytes from question_answers`,
  );
  const deadline = performance.now() + options.seconds * 1000;
  let asks = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.connections }, async (_, client) => {
      for (let i = 0; performance.now() < deadline; i += 1) {
        const question = `Database write benchmark ${client}-${i}: what is the capital of France?`;
        const inserted = await pool.query<{ id: string }>(
          `insert into question_answers (question, text_stored, search_terms, deadline_at)
           values ($1, true, $2::text[], now() + interval '2 minutes') returning id`,
          [question, []],
        );
        await pool.query(
          `update question_answers
              set status = 'answered', answer = $2, model = 'gpt-5-mini', prompt_tokens = 12,
                  completion_tokens = 40, total_tokens = 52, latency_ms = 900, cost_usd = 0.00008,
                  answered_at = now(),
                  search_terms = case when search_terms is null then null
                                      else search_terms || $3::text[] end
            where id = $1 and attempt = 1 and status = 'pending'`,
          [inserted.rows[0]?.id, `Paris is the capital of France. (${client}-${i})`, []],
        );
        asks += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await pool.query<{ n: string; bytes: string }>(
    `select count(*) as n, pg_total_relation_size('question_answers') as bytes from question_answers`,
  );
  await pool.end();
  const rows = Number(after.rows[0]?.n) - Number(before.rows[0]?.n);
  return {
    connections: options.connections,
    seconds: Math.round(seconds * 10) / 10,
    asks,
    asksPerSecond: Math.round(asks / seconds),
    bytesPerRow: Math.round(
      (Number(after.rows[0]?.bytes) - Number(before.rows[0]?.bytes)) / Math.max(rows, 1),
    ),
  };
}
