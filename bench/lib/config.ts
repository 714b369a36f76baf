/**
 * The benchmark's configuration, from its environment (every variable is listed at the top of
 * bench/run.ts), and where it reads and writes its files.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RESULTS_DIR = join(ROOT, 'bench/results');
export const PROFILE_DIR = join(RESULTS_DIR, 'profiles');
export const SVG_NAME = 'throughput-vs-latency.svg';

export interface BenchConfig {
  durationS: number;
  rounds: number;
  warmupS: number;
  poolMax: number;
  latencies: number[];
  chartConnections: number;
  listRows: number[];
  listConnections: number;
  listLimit: number;
  logLevel: string | undefined;
  /** BENCH_ONLY: the scenarios to run; undefined runs them all. */
  only: Set<string> | undefined;
  cpuProfile: boolean;
  nodeArgs: string[];
  keepLogs: boolean;
}

const numberList = (raw: string) => raw.split(',').map((v) => Number(v.trim()));

export function readConfig(env: NodeJS.ProcessEnv): BenchConfig {
  return {
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
}
