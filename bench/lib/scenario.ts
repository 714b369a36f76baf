/**
 * What every scenario module under bench/scenarios/ exports: how it measures, which of the
 * issue's targets it judges, and its part of the generated block of BENCHMARKS.md. A new
 * scenario is a new module with this shape, added to the list in bench/run.ts.
 */
import type { BenchConfig } from './config.js';
import type { FakeLlms } from './fake-llms.js';
import type { Measure } from './measure.js';
import type { BenchPostgres } from './postgres.js';
import type { Results, RunRecord, Target } from './results.js';
import type { WithServers } from './servers.js';

/** What a scenario measured besides its autocannon runs (those go to `runs`). */
export type Measured = Partial<
  Pick<
    Results,
    | 'chart'
    | 'firstRun'
    | 'webPage'
    | 'exported'
    | 'searched'
    | 'dbWrites'
    | 'gateway'
    | 'llmClient'
  >
>;

/** Everything a scenario measures with, set up by bench/run.ts. */
export interface BenchContext {
  config: BenchConfig;
  /** A temp dir for this run's process logs and data dirs. */
  workDir: string;
  pg: BenchPostgres;
  fakes: FakeLlms;
  /** The runs measured so far, this scenario's included (`measure` adds them). */
  runs: RunRecord[];
  withServers: WithServers;
  measure: Measure;
}

export interface Scenario {
  /** Its name in BENCH_ONLY: a … k, or chart. */
  id: string;
  /** What it measures, in a few words: its heading in BENCHMARKS.md (after its letter). */
  title: string;
  /** The databases its servers use, created and migrated before any scenario runs. */
  databases?: readonly string[];
  /** The fake-LLM latencies (ms) it needs besides 0, which always runs. */
  llmLatencies?: (config: BenchConfig) => number[];
  run(ctx: BenchContext): Promise<Measured | undefined>;
  /**
   * Its targets, judged on a run's results (the latest.json of a full run, say): each with its
   * threshold and the figure it is judged on, in a few words, for the one table of targets.
   */
  targets(results: Results): Target[];
  /**
   * Its section of the generated block of BENCHMARKS.md, under a heading of its title: a compact
   * table of its key figures (the rest stays in latest.json); none when it was not measured.
   */
  render(results: Results): string[];
}
