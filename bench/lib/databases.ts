/**
 * The benchmark's databases on its PostgreSQL: created, migrated with askbase's migrations
 * (`dist/db/migrate-cli.js`), and filled with rows.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './config.js';
import type { BenchPostgres } from './postgres.js';
import { childEnv } from './processes.js';

/** Rows in the servers' own databases (askbase_bench, baseline_bench) before any scenario. */
export const SEED_ROWS = 10_000;
/** Rows behind the web page (g), the export (h) and the search (i). */
export const LARGE_TABLE_ROWS = 1_000_000;

/** Creates and migrates each database; `seeded` ones also get SEED_ROWS rows. */
export async function prepareDatabases(
  pg: BenchPostgres,
  options: { names: string[]; seeded: string[]; workDir: string },
): Promise<void> {
  // One database per server, so each has its own table and neither sees the other's rows.
  for (const name of options.names) {
    await pg.createDatabase(name);
    migrate(pg.url(name), options.workDir);
  }
  for (const name of options.seeded) {
    await insertRows(pg, name, SEED_ROWS);
    await pg.query(name, 'vacuum analyze question_answers');
  }
}

function migrate(url: string, workDir: string) {
  execFileSync(process.execPath, [join(ROOT, 'dist/db/migrate-cli.js')], {
    cwd: workDir,
    env: childEnv({ DATABASE_URL: url, LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * `count` answered rows, in one insert … select from generate_series statement. Their text is
 * ASCII, so their search terms are none ('{}'); null would set askbase's background job to index
 * them all during the measurements.
 */
export async function insertRows(pg: BenchPostgres, database: string, count: number) {
  if (count <= 0) return;
  await pg.query(
    database,
    `insert into question_answers
       (question, answer, status, model, prompt_tokens, completion_tokens, total_tokens,
        latency_ms, created_at, answered_at, search_terms)
     select 'Benchmark question number ' || g || '?',
            'Answer to: Benchmark question number ' || g || '?',
            'answered', 'gpt-5-mini', 5, 7, 12, 40,
            now() - make_interval(secs => $1 - g), now() - make_interval(secs => $1 - g),
            '{}'::text[]
       from generate_series(1, $1::int) as g`,
    [count],
  );
}

/** Fills `database` up to `rows` rows (an earlier scenario may have begun it); returns its rows. */
export async function ensureRows(pg: BenchPostgres, database: string, rows: number) {
  const [{ n } = { n: 0 }] = await pg.query<{ n: number }>(
    database,
    'select count(*)::int as n from question_answers',
  );
  if (n < rows) {
    await insertRows(pg, database, rows - n);
    await pg.query(database, 'vacuum analyze question_answers');
  }
  return Math.max(n, rows);
}
