import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/** A process the benchmark started; every one is stopped by pid at the end, even on failure. */
export interface Child {
  name: string;
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has gone. */
  exited: Promise<number | string>;
  /** The last lines it printed, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Child>();

export function spawnChild(
  name: string,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; logFile: string },
): Child {
  const proc: ChildProcess = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = proc.pid;
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(child);
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });

  const child: Child = {
    name,
    pid,
    exited,
    tail: () => lines.join('\n'),
    async stop(graceMs = 10_000) {
      if (!running.has(child)) return;
      signal(pid, 'SIGTERM');
      const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(child);
  return child;
}

/** Stops every process still running, by pid, in parallel. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(5_000)));
}

/** Last resort on a synchronous exit path: SIGKILL whatever is left. */
export function killAllChildrenNow(): void {
  for (const child of running) signal(child.pid, 'SIGKILL');
}

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

export { freePort } from '../../test/helpers/free-port.js';

/** A child's environment: only what it needs from this one (never DATABASE_URL & co.), and `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return {
    ...Object.fromEntries(
      keep.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : [])),
    ),
    ...extra,
  };
}

/**
 * Polls `url` with GET until it answers with a status `accept` likes (default: 200), the child
 * dies, or `timeoutMs` passes.
 */
export async function waitForHttp(
  url: string,
  child: Child,
  {
    timeoutMs = 60_000,
    accept = (status: number): boolean => status === 200,
  }: { timeoutMs?: number; accept?: (status: number) => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died: number | string | undefined;
  void child.exited.then((code) => (died = code));
  for (;;) {
    if (died !== undefined) {
      throw new Error(`${child.name} exited (${died}) before it was ready:\n${child.tail()}`);
    }
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (accept(response.status)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms:\n${child.tail()}`);
    }
    await sleep(100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
