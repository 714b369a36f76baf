import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/db/data-dir-lock.js';
import { ask } from '../helpers/askbase.js';
import { MIGRATE_CLI } from '../helpers/askbase-process.js';
import { type QaJson, expectOk } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';

/** The pid of a process that has exited: what a lock left by a killed process holds. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  if (pid === undefined) throw new Error('could not start a process');
  return pid;
}

describe('the lock on an embedded data directory', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'askbase-test-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('when the directory is locked, then a second lock is refused naming the directory and the holder', () => {
    const directory = join(tempDir(), 'pglite');
    const lock = lockDataDir(directory);
    try {
      const second = () => lockDataDir(directory);
      expect(second).toThrow(DataDirLockedError);
      expect(second).toThrow(`${directory} is in use by another process (pid ${process.pid})`);
    } finally {
      lock.release();
    }
    lockDataDir(directory).release();
  });

  it('when the lock was left by a process that is gone, then it is taken over', () => {
    const directory = join(tempDir(), 'pglite');
    writeFileSync(`${directory}.lock`, `${deadPid()}\nleft-by-a-killed-process\n`);
    const lock = lockDataDir(directory);
    expect(() => lockDataDir(directory)).toThrow(DataDirLockedError);
    lock.release();
  });

  it('when the lock holds our own pid from an earlier run (a restarted container), then it is taken over', () => {
    const directory = join(tempDir(), 'pglite');
    writeFileSync(`${directory}.lock`, `${process.pid}\nan-earlier-run\n`);
    lockDataDir(directory).release();
  });

  it('when a takeover guard was left by a killed process, then the lock is still taken', () => {
    const directory = join(tempDir(), 'pglite');
    writeFileSync(`${directory}.lock`, `${deadPid()}\nstale\n`);
    writeFileSync(`${directory}.lock.takeover`, `${deadPid()}\nstale-guard\n`);
    lockDataDir(directory).release();
  });
});

// Real processes and the embedded database start slowly on a loaded machine: the bound
// only guards against a hang.
describe('askbase processes on one embedded data directory', { timeout: 120_000 }, () => {
  // Each process keeps its data below its own working directory unless the test names one.
  const suite = useAskbaseSuite({ database: 'none', askbase: false });

  it('when a second askbase or db:migrate starts on a DATA_DIR in use, then each exits 1 with one line naming the directory and the holder, and the first keeps serving', async () => {
    const first = await suite.spawn();
    const dataDir = join(first.cwd, 'data');
    const asked = await expectOk<QaJson>(await ask(first.url, { question: 'Kept safe?' }));

    const expected = `askbase: the embedded database in ${join(dataDir, 'pglite')} is in use by another process (pid ${first.child.pid})`;
    for (const entry of [undefined, MIGRATE_CLI]) {
      const second = await suite.spawn({ DATA_DIR: dataDir }, { entry, waitUntilReady: false });
      expect(await second.exited).toBe(1);
      const lines = second.output().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(expected);
    }

    const read = await expectOk<QaJson>(await fetch(`${first.url}/qa/${asked.id}`));
    expect(read).toMatchObject({ status: 'answered', question: 'Kept safe?' });
  });

  it('when the process holding DATA_DIR was killed, then the next one takes the lock over and finds the data', async () => {
    const first = await suite.spawn();
    const asked = await expectOk<QaJson>(await ask(first.url, { question: 'Still here?' }));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await suite.spawn({ DATA_DIR: join(first.cwd, 'data') });
    const read = await expectOk<QaJson>(await fetch(`${second.url}/qa/${asked.id}`));
    expect(read).toMatchObject({ status: 'answered', question: 'Still here?' });
  });
});
