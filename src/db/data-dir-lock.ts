import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

/** Another live process holds the embedded database's directory. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly directory: string,
    readonly holderPid: number,
  ) {
    super(
      `the embedded database in ${directory} is in use by another process (pid ${holderPid}); ` +
        'stop it first, or give this one its own DATA_DIR',
    );
  }
}

export interface DataDirLock {
  release(): void;
}

interface Holder {
  pid: number;
  token: string;
}

/**
 * An exclusive lock on a PGlite data directory. PGlite takes none, and two processes on one
 * directory corrupt it. The lock is a file created with O_EXCL holding the owner's pid; one
 * whose owner is dead (a killed process, or a container restarted with the same pid) is taken
 * over under a second O_EXCL guard, so two processes starting at once cannot both take it.
 */
export function lockDataDir(directory: string): DataDirLock {
  const file = `${directory}.lock`;
  const guard = `${file}.takeover`;
  const me: Holder = { pid: process.pid, token: randomUUID() };
  // A pid equal to ours is a previous run's (below), so this process's own locks are tracked here.
  if (heldHere.has(file)) throw new DataDirLockedError(directory, process.pid);

  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (createExclusive(file, me)) {
      heldHere.add(file);
      return {
        release: () => {
          heldHere.delete(file);
          releaseIfOurs(file, me);
        },
      };
    }
    const holder = readHolder(file);
    if (holder === undefined) {
      pause(); // released between our two calls, or not yet written
      continue;
    }
    if (isLiveOther(holder.pid)) throw new DataDirLockedError(directory, holder.pid);

    if (!createExclusive(guard, me)) {
      const other = readHolder(guard);
      // A guard left by a process killed mid-takeover blocks nobody for long.
      if (other !== undefined && !isLiveOther(other.pid)) releaseIfOurs(guard, other);
      pause();
      continue;
    }
    try {
      // Still the same dead holder? Then nobody else took it over meanwhile.
      if (readHolder(file)?.token === holder.token) unlinkSync(file);
    } finally {
      releaseIfOurs(guard, me);
    }
  }
  throw new Error(`could not take the lock ${file}; remove it if no askbase process runs`);
}

const heldHere = new Set<string>();

function pause(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
}

function createExclusive(file: string, holder: Holder): boolean {
  try {
    writeFileSync(file, `${holder.pid}\n${holder.token}\n`, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readHolder(file: string): Holder | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, token] = text.split('\n');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || !token) return undefined;
  return { pid, token };
}

function releaseIfOurs(file: string, holder: Holder): void {
  if (readHolder(file)?.token !== holder.token) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** True when `pid` is a running process other than this one. */
function isLiveOther(pid: number): boolean {
  // In a restarted container askbase often gets the pid its previous run had.
  return pid !== process.pid && isProcessAlive(pid);
}

/** True when a process with this pid runs (one of another user's counts too). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
