/**
 * Scenario (d): GET /qas, the first page and a deep one (the second-to-last), at each table size
 * of BENCH_LIST_ROWS, on askbase alone, in alternating rounds.
 */
import { encodeCursor } from '../../src/http/serialize.js';
import { insertRows } from '../lib/databases.js';
import { log } from '../lib/log.js';
import type { Item } from '../lib/measure.js';
import type { BenchPostgres } from '../lib/postgres.js';
import { type Results, type Target, ratio } from '../lib/results.js';
import { runTable } from '../lib/run-table.js';
import type { Scenario } from '../lib/scenario.js';

/** Also the table of scenarios (g) and (h), which fill it further. */
export const LIST_DATABASE = 'askbase_list';

export const listPages: Scenario = {
  id: 'd',
  title: 'GET /qas, first and deep page',
  databases: [LIST_DATABASE],
  async run({ config, pg, withServers, measure }) {
    const database = LIST_DATABASE;
    const limit = config.listLimit;
    await withServers(
      ['askbase'],
      0,
      async ([server]) => {
        if (!server) return;
        let rows = 0;
        for (const target of config.listRows) {
          const started = performance.now();
          await insertRows(pg, database, target - rows);
          rows = target;
          await pg.query(database, 'vacuum analyze question_answers');
          log(
            `GET /qas: table now holds ${rows.toLocaleString('en-US')} rows ` +
              `(${Math.round(performance.now() - started)} ms to insert and vacuum)`,
          );
          const deepAfter = await checkPaging(server.baseUrl, pg, database, limit);
          const page = (name: string, path: string): Item => ({
            server,
            scenario: 'd',
            label: `GET /qas ${name}, ${rowsLabel(rows)} rows, ${config.listConnections} conns`,
            llmLatencyMs: null,
            rows,
            spec: {
              baseUrl: server.baseUrl,
              method: 'GET',
              path,
              connections: config.listConnections,
            },
          });
          await measure([
            page('first page', `/qas?limit=${limit}`),
            page('deep page', `/qas?limit=${limit}&cursor=${encodeCursor(deepAfter)}`),
          ]);
        }
      },
      { name: database },
    );
    return undefined;
  },
  targets,
  render,
};

function targets(results: Results): Target[] {
  const biggest = Math.max(
    0,
    ...results.runs.filter((r) => r.scenario === 'd').map((r) => r.rows ?? 0),
  );
  const first = results.runs.find(
    (r) => r.scenario === 'd' && r.rows === biggest && r.label.includes('first'),
  );
  const deep = results.runs.find(
    (r) => r.scenario === 'd' && r.rows === biggest && r.label.includes('deep'),
  );
  if (!first || !deep) return [];
  // Closed loop at a fixed connection count: the req/s ratio is the mean-latency ratio.
  const slower = ratio(first.load.rps, deep.load.rps);
  return [
    {
      id: 'd',
      description: `deep page ≤ 2× the first's latency`,
      figure: `${slower}×`,
      met: slower <= 2,
    },
  ];
}

const rowsLabel = (rows: number) =>
  rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1000}k`;

function render(results: Results): string[] {
  const runs = results.runs.filter((r) => r.scenario === 'd');
  return runTable(
    'page',
    runs.map((run) => [
      `${run.label.includes('first') ? 'first' : 'deep'}, ${rowsLabel(run.rows ?? 0)} rows`,
      run,
    ]),
  );
}

/**
 * Walks the Link header from the first page to check that the computed cursor is the one
 * askbase hands out, and returns the `after` id of a deep page: the second-to-last page.
 */
async function checkPaging(baseUrl: string, pg: BenchPostgres, database: string, limit: number) {
  const page = async (path: string) => {
    const response = await fetch(baseUrl + path);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    const items = (await response.json()) as { id: number }[];
    const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
    return { items, next };
  };
  const first = await page(`/qas?limit=${limit}`);
  const lastId = first.items.at(-1)?.id;
  if (first.items.length !== limit || !first.next || lastId === undefined) {
    throw new Error('GET /qas: first page is not full or has no Link: rel="next"');
  }
  if (first.next !== `/qas?limit=${limit}&cursor=${encodeCursor(lastId)}`) {
    throw new Error(`GET /qas: Link ${first.next} is not the cursor this benchmark computes`);
  }
  const second = await page(first.next);
  if (second.items[0]?.id !== lastId - 1) {
    throw new Error('GET /qas: the next page does not follow on');
  }

  const [range] = await pg.query<{ min: string }>(
    database,
    'select min(id) as min from question_answers',
  );
  const deepAfter = Number(range?.min) + limit + 1;
  const deep = await page(`/qas?limit=${limit}&cursor=${encodeCursor(deepAfter)}`);
  if (deep.items.length !== limit || deep.items[0]?.id !== deepAfter - 1 || !deep.next) {
    throw new Error('GET /qas: the deep page is not the full page before the last');
  }
  return deepAfter;
}
