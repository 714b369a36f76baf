import type { BenchPostgres } from '../lib/postgres.js';

/** One search, repeated: what it looks for, how many rows it found, each request's time. */
export interface SearchQuery {
  what: string;
  q: string;
  found: number;
  ms: number[];
}

export interface SearchResult {
  rows: number;
  /** Rows in Japanese, which only the search terms find. */
  otherScriptRows: number;
  /** The background job indexing the rows seeded without terms, as after an upgrade. */
  backfill: { rows: number; seconds: number };
  queries: SearchQuery[];
}

/** Kanji digits: a row's number written in them is a word in that row alone. */
const KANJI_DIGITS = '〇一二三四五六七八九';
export const kanjiNumber = (n: number) =>
  String(n).replace(/\d/g, (digit) => KANJI_DIGITS[Number(digit)] ?? '');

/**
 * `count` answered rows, one in ten in Japanese (its number in kanji), the others in English.
 * The English rows get their (empty) search terms; the Japanese rows none, as an older version
 * stored them, so askbase's background job indexes them: that is measured too.
 */
export async function insertMixedRows(pg: BenchPostgres, database: string, count: number) {
  await pg.query(
    database,
    `insert into question_answers
       (question, answer, status, model, prompt_tokens, completion_tokens, total_tokens,
        latency_ms, created_at, answered_at, search_terms)
     select case when g % 10 = 0
                 then '東京の天気についての質問' || translate(g::text, '0123456789', $2) || 'です'
                 else 'Benchmark question number ' || g || '?' end,
            case when g % 10 = 0
                 then '東京は晴れです。番号' || translate(g::text, '0123456789', $2)
                 else 'Answer to: Benchmark question number ' || g || '?' end,
            'answered', 'gpt-5-mini', 5, 7, 12, 40,
            now() - make_interval(secs => $1 - g), now() - make_interval(secs => $1 - g),
            case when g % 10 = 0 then null else '{}'::text[] end
       from generate_series(1, $1::int) as g`,
    [count, KANJI_DIGITS],
  );
}

/**
 * Scenario (i): GET /qas?q=… over a large table with rows in two scripts, one request at a
 * time (as the web page makes them), `repeats` times each.
 */
export async function measureSearch(options: {
  baseUrl: string;
  queries: { what: string; q: string; expect: (found: number) => boolean }[];
  repeats: number;
}): Promise<SearchQuery[]> {
  const measured: SearchQuery[] = [];
  for (const { what, q, expect } of options.queries) {
    const ms: number[] = [];
    let found = 0;
    for (let i = 0; i < options.repeats; i += 1) {
      const started = performance.now();
      const response = await fetch(`${options.baseUrl}/qas?q=${encodeURIComponent(q)}`);
      if (!response.ok) throw new Error(`GET /qas?q=${q} answered ${response.status}`);
      found = ((await response.json()) as unknown[]).length;
      ms.push(Math.round(performance.now() - started));
    }
    if (!expect(found)) throw new Error(`GET /qas?q=${q} found ${found} rows, not what it should`);
    measured.push({ what, q, found, ms });
  }
  return measured;
}
