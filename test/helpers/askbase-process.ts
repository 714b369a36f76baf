import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

export interface AskbaseProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<number | NodeJS.Signals>;
  output(): string;
}

const mainModule = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/**
 * Runs src/main.ts as its own process (as `npm start` does, through tsx), for tests that send
 * it signals. Its working directory is a fresh temp dir, so no developer's .env leaks in.
 */
export async function spawnAskbase(env: Record<string, string>): Promise<AskbaseProcess> {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'askbase-process-'));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), mainModule], {
    cwd,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(cwd, 'data'),
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '0',
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
  for (let i = 0; ; i += 1) {
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || i > 300) {
      child.kill('SIGKILL');
      throw new Error(`askbase did not become ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, child, exited, output: () => output };
}
