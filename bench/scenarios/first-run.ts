/**
 * Scenario (f): askbase started the way a newcomer starts it, on the embedded database: a fresh
 * and an existing DATA_DIR with `node dist/main.js`, and `npm start`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../lib/config.js';
import { log } from '../lib/log.js';
import { freePort, sleep } from '../lib/processes.js';
import { type Results, type Target, median, ratio } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import type { StartMeasure, FirstRun } from '../lib/scenario-results.js';

/** Starts of each kind. */
const FIRST_RUN_REPEATS = 3;

export const firstRun: Scenario = {
  id: 'f',
  title: 'First run on the embedded database',
  async run({ workDir, fakes }) {
    log('first run on the embedded database: fresh and existing DATA_DIR, npm start');
    return {
      firstRun: await measureFirstRun({
        root: ROOT,
        workDir,
        llmBaseUrl: fakes.get(0)?.baseUrl ?? '',
        repeats: FIRST_RUN_REPEATS,
      }),
    };
  },
  targets,
  render,
};

/** Issue 11's targets: the embedded database at start. */
function targets({ firstRun: f }: Results): Target[] {
  if (!f) return [];
  const m = (runs: StartMeasure[], key: keyof StartMeasure) => median(runs.map((r) => r[key]));
  const worst = (runs: StartMeasure[], key: keyof StartMeasure) =>
    Math.max(...runs.map((r) => r[key]));
  const npmRatio = ratio(m(f.npmStart, 'listeningMs'), m(f.existing, 'listeningMs'));
  return [
    {
      id: 'f-npm-start',
      description: '`npm start` ≤ 1.5× `node`, listening',
      figure: `${npmRatio}×`,
      met: npmRatio <= 1.5,
    },
    {
      id: 'f-fresh-ready',
      description: 'ready ≤ 2.5 s',
      figure: `${m(f.fresh, 'readyMs')} ms`,
      met: m(f.fresh, 'readyMs') <= 2500,
    },
    {
      id: 'f-fresh-memory',
      description: 'peak RSS ≤ 350 MiB',
      figure: `${worst(f.fresh, 'peakRssMb')} MiB`,
      met: worst(f.fresh, 'peakRssMb') <= 350,
    },
    {
      id: 'f-existing',
      description: 'ready ≤ 1 s, idle RSS ≤ 220 MiB',
      figure: `${m(f.existing, 'readyMs')} ms, ${m(f.existing, 'idleRssMb')} MiB`,
      met: m(f.existing, 'readyMs') <= 1000 && m(f.existing, 'idleRssMb') <= 220,
    },
  ];
}

/** Medians of the starts of each kind, and the highest peak. */
function render({ firstRun: f }: Results): string[] {
  if (!f) return [];
  const rows = (
    [
      ['`node`, fresh', f.fresh],
      ['`node`, existing', f.existing],
      ['`npm start`, existing', f.npmStart],
      ['`node`, fresh, `EMBEDDED_FSYNC=false`', f.freshUnsynced],
      ['`node`, existing, `EMBEDDED_FSYNC=false`', f.existingUnsynced],
    ] as const
  ).flatMap(([name, runs]) => {
    if (!runs?.length) return [];
    const m = (key: keyof StartMeasure) => median(runs.map((r) => r[key]));
    const peak = Math.max(...runs.map((r) => r.peakRssMb));
    return [`| ${name} | ${m('listeningMs')} | ${m('readyMs')} | ${m('idleRssMb')} | ${peak} |`];
  });
  return [
    `| DATA_DIR, median of ${f.fresh.length} | listening ms | ready ms | idle MiB | max peak MiB |`,
    '| --- | --: | --: | --: | --: |',
    ...rows,
  ];
}

/**
 * Starts askbase the way a newcomer does, several times each way, alternating the kinds so a
 * busy moment of the machine does not fall on one kind only. The LLM is never called.
 */
export async function measureFirstRun(options: {
  root: string;
  workDir: string;
  llmBaseUrl: string;
  repeats: number;
}): Promise<FirstRun> {
  const result: Required<FirstRun> = {
    fresh: [],
    existing: [],
    npmStart: [],
    freshUnsynced: [],
    existingUnsynced: [],
  };
  const existingDir = await mkdtemp(join(options.workDir, 'first-run-existing-'));
  const node = [process.execPath, [join(options.root, 'dist/main.js')]] as const;
  const unsynced = { EMBEDDED_FSYNC: 'false' };
  await startOnce(options, node, existingDir); // creates it
  const fresh = async (env: Record<string, string> = {}) => {
    const freshDir = await mkdtemp(join(options.workDir, 'first-run-fresh-'));
    try {
      return await startOnce(options, node, freshDir, env);
    } finally {
      await rm(freshDir, { recursive: true, force: true });
    }
  };
  for (let i = 0; i < options.repeats; i += 1) {
    result.fresh.push(await fresh());
    result.existing.push(await startOnce(options, node, existingDir));
    result.npmStart.push(
      await startOnce(options, ['npm', ['start', '--silent']] as const, existingDir),
    );
    // The defaults' tuned twin, each beside its default start: the cost of syncing commits.
    result.freshUnsynced.push(await fresh(unsynced));
    result.existingUnsynced.push(await startOnce(options, node, existingDir, unsynced));
  }
  return result;
}

async function startOnce(
  options: { root: string; llmBaseUrl: string },
  [command, args]: readonly [string, readonly string[]],
  dataDir: string,
  extraEnv: Record<string, string> = {},
): Promise<StartMeasure> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, [...args], {
    cwd: options.root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      OPENAI_BASE_URL: options.llmBaseUrl,
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: 'ignore',
    // npm start: its node child is in the same group, so one signal stops both.
    detached: true,
  });
  const pids = () => [child.pid ?? 0, ...descendants(child.pid ?? 0)];
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, totalRss(pids()));
  }, 20);
  try {
    const base = `http://127.0.0.1:${port}`;
    const listeningMs = await until(`${base}/is_up`, started, child.pid);
    const readyMs = await until(`${base}/health/ready`, started, child.pid);
    await sleep(2000);
    const idleRssMb = totalRss(pids());
    peak = Math.max(peak, idleRssMb);
    return { listeningMs, readyMs, idleRssMb, peakRssMb: Math.round(peak) };
  } finally {
    clearInterval(sampler);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
}

async function until(url: string, started: number, pid: number | undefined): Promise<number> {
  for (let i = 0; i < 6000; i += 1) {
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return Math.round(performance.now() - started);
    if (pid !== undefined && !alive(pid)) throw new Error(`askbase exited before ${url} answered`);
    await sleep(10);
  }
  throw new Error(`${url} did not answer within 60 s`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resident memory of these processes together, in MiB (npm and the node it starts). */
function totalRss(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += Number(match?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return Math.round(kb / 1024);
}

function descendants(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
    return children.flatMap((child) => [child, ...descendants(child)]);
  } catch {
    return [];
  }
}
