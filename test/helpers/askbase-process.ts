import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { freePort } from './free-port.js';

export interface AskbaseProcess {
  url: string;
  child: ChildProcess;
  /** Its working directory; DATA_DIR is `data/` below it unless the test gave one. */
  cwd: string;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<number | NodeJS.Signals>;
  output(): string;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
// What ships: the test setup builds dist/ when the sources changed (scripts/build-if-stale.js).
export const MAIN = join(root, 'dist/main.js');
export const MIGRATE_CLI = join(root, 'dist/db/migrate-cli.js');

/**
 * Runs askbase's entry point (dist/main.js by default) as its own process, for tests that send
 * it signals or run several on one directory. Its working directory is a fresh temp dir, so no
 * developer's .env leaks in; it is removed, and the process killed, when the test ends. Call
 * it from a test, not from a hook.
 * Resolves once /health/ready answers 200, unless `waitUntilReady` is false.
 */
export async function spawnAskbase(
  env: Record<string, string>,
  options: { entry?: string; waitUntilReady?: boolean } = {},
): Promise<AskbaseProcess> {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'askbase-process-'));
  const entry = options.entry ?? MAIN;
  const child = spawn(process.execPath, [entry], {
    cwd,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(cwd, 'data'),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = `http://127.0.0.1:${port}`;
  const handle = { url, child, cwd, exited, output: () => output };
  // Gone with the test that started it, whatever became of the test.
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(cwd, { recursive: true, force: true });
  });
  if (options.waitUntilReady === false) return handle;

  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return handle;
    if (gone) throw new Error(`askbase exited before it was ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
