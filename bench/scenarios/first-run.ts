import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, sleep } from '../lib/processes.js';

/** One start of askbase, from spawn to ready, on the embedded database. */
export interface StartMeasure {
  /** Spawn to the first 200 from /is_up (listening). */
  listeningMs: number;
  /** Spawn to the first 200 from /health/ready (database open and migrated). */
  readyMs: number;
  /** VmRSS 2 s after ready. */
  idleRssMb: number;
  /** Highest VmRSS seen from spawn to then, sampled every 20 ms. */
  peakRssMb: number;
}

export interface FirstRun {
  /** `node dist/main.js` on an empty DATA_DIR, one fresh directory per start. */
  fresh: StartMeasure[];
  /** `node dist/main.js` on a DATA_DIR made by an earlier start. */
  existing: StartMeasure[];
  /** `npm start` on a built tree and an existing DATA_DIR: npm and its prestart check included. */
  npmStart: StartMeasure[];
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
  const result: FirstRun = { fresh: [], existing: [], npmStart: [] };
  const existingDir = await mkdtemp(join(options.workDir, 'first-run-existing-'));
  const node = [process.execPath, [join(options.root, 'dist/main.js')]] as const;
  await startOnce(options, node, existingDir); // creates it
  for (let i = 0; i < options.repeats; i += 1) {
    const freshDir = await mkdtemp(join(options.workDir, 'first-run-fresh-'));
    result.fresh.push(await startOnce(options, node, freshDir));
    await rm(freshDir, { recursive: true, force: true });
    result.existing.push(await startOnce(options, node, existingDir));
    result.npmStart.push(
      await startOnce(options, ['npm', ['start', '--silent']] as const, existingDir),
    );
  }
  return result;
}

async function startOnce(
  options: { root: string; llmBaseUrl: string },
  [command, args]: readonly [string, readonly string[]],
  dataDir: string,
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

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
};
