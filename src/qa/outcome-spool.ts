import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type DataDirLock, DataDirLockedError, lockDataDir } from '../db/data-dir-lock.js';
import type { StoredAnswer } from '../domain/question-answer.js';
import type { Logger } from '../logger.js';

/**
 * An outcome that could not be written to the database yet. `attempt` is absent in entries
 * spooled by versions before attempts were recorded.
 */
export type SpooledOutcome =
  | { kind: 'answered'; id: number; attempt?: number; answer: StoredAnswer; answeredAt: string }
  | {
      kind: 'failed';
      id: number;
      attempt?: number;
      code: string;
      message: string;
      /** The part of a streamed answer that arrived before it broke off (when text is kept). */
      partialAnswer?: string | undefined;
    };

export type ReplayResult = 'applied' | 'retry-later' | 'rejected';

/**
 * A local write-ahead spool for outcomes the database could not take: JSON lines under
 * DATA_DIR, each fsynced before the client is answered, replayed once the database is back.
 * Entries the database rejects for good go to a separate file for a person to look at;
 * nothing is ever silently dropped.
 *
 * A spool belongs to one process at a time (a lock file beside it), so several processes on
 * one DATA_DIR (WORKERS, or a restart overlapping the old process) each take their own slot:
 * `spool`, `spool-2`, … And a slot whose process died is adopted and replayed by another.
 */
export class OutcomeSpool {
  private queue: Promise<unknown> = Promise.resolve();
  private pending: number;

  private constructor(
    readonly directory: string,
    private readonly file: string,
    private readonly rejectedFile: string,
    private readonly logger: Logger,
    pending: number,
    private readonly family: SlotFamily,
    private readonly lock?: DataDirLock,
  ) {
    this.pending = pending;
  }

  /** The spool in `directory`, without a lock: for a directory only one process ever uses. */
  static async open(
    directory: string,
    logger: Logger,
    lock?: DataDirLock,
    family: SlotFamily = slotFamily(undefined),
  ): Promise<OutcomeSpool> {
    mkdirSync(directory, { recursive: true });
    const file = join(directory, 'outcomes.jsonl');
    const pending = (await readLines(file)).length;
    if (pending > 0) logger.warn({ pending, file }, 'spooled outcomes found; replaying them');
    return new OutcomeSpool(
      directory,
      file,
      join(directory, 'outcomes.rejected.jsonl'),
      logger,
      pending,
      family,
      lock,
    );
  }

  /**
   * This process's spool under `dataDir`: the first slot no live process holds. Slots are
   * `spool`, `spool-2`, …, or, in a directory several hosts share (SPOOL_DIR), one family per
   * host: `spool@<host>`, `spool@<host>#2`, … (a pid means nothing on another host).
   */
  static async openFreeSlot(dataDir: string, logger: Logger, host?: string): Promise<OutcomeSpool> {
    mkdirSync(dataDir, { recursive: true });
    const family = slotFamily(host);
    for (let slot = 1; slot <= MAX_SLOTS; slot += 1) {
      const directory = join(dataDir, family.name(slot));
      let lock: DataDirLock;
      try {
        lock = lockDataDir(directory);
      } catch (error) {
        if (error instanceof DataDirLockedError) continue;
        throw error;
      }
      return OutcomeSpool.open(directory, logger, lock, family);
    }
    throw new Error(`every spool slot under ${dataDir} is held by a live process`);
  }

  /**
   * The other slots of this host's family that hold outcomes and whose process is gone, each
   * now locked by this process: replay them, then close them.
   */
  async adoptAbandoned(): Promise<OutcomeSpool[]> {
    const dataDir = dirname(this.directory);
    const adopted: OutcomeSpool[] = [];
    for (const name of await readdir(dataDir)) {
      if (!this.family.has(name) || name === basename(this.directory)) continue;
      const directory = join(dataDir, name);
      if ((await sizeOf(join(directory, 'outcomes.jsonl'))) === 0) continue;
      try {
        adopted.push(await OutcomeSpool.open(directory, this.logger, lockDataDir(directory)));
      } catch (error) {
        if (!(error instanceof DataDirLockedError)) throw error;
      }
    }
    return adopted;
  }

  /** Records which process (its lease's owner) writes this spool, for other hosts to judge. */
  async markOwner(owner: string): Promise<void> {
    await writeFile(join(this.directory, OWNER_FILE), owner, { flush: true });
  }

  /** Spools of other hosts in a shared directory that hold outcomes, with their owners. */
  async foreignSlots(): Promise<{ directory: string; owner: string }[]> {
    const dataDir = dirname(this.directory);
    const found: { directory: string; owner: string }[] = [];
    for (const name of await readdir(dataDir)) {
      if (!isHostSlot(name) || this.family.has(name)) continue;
      const directory = join(dataDir, name);
      if ((await sizeOf(join(directory, 'outcomes.jsonl'))) === 0) continue;
      const owner = await readFile(join(directory, OWNER_FILE), 'utf8').catch(() => undefined);
      if (owner) found.push({ directory, owner });
    }
    return found;
  }

  /**
   * Takes a gone host's spool into this host's family, for adoptAbandoned to replay: renamed
   * first under a name no one scans (the rename is the claim; of two claimants one fails),
   * marked with this process as its owner, then renamed into the family. False when another
   * process claimed it first.
   */
  async claim(directory: string, owner: string): Promise<boolean> {
    const id = randomUUID();
    const claiming = join(dirname(this.directory), `.claiming-${id}`);
    try {
      await rename(directory, claiming);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    await writeFile(join(claiming, OWNER_FILE), owner, { flush: true });
    await rename(claiming, join(dirname(this.directory), this.family.name(`adopted-${id}`)));
    return true;
  }

  /** Lets another process take this slot. */
  close(): void {
    this.lock?.release();
  }

  /** Outcomes waiting to be replayed. */
  size(): number {
    return this.pending;
  }

  /** Appends and fsyncs one outcome; resolves only when it is on disk. */
  append(outcome: SpooledOutcome): Promise<void> {
    return this.exclusive(async () => {
      await appendDurably(this.file, `${JSON.stringify(outcome)}\n`);
      this.pending += 1;
    });
  }

  /**
   * Offers each spooled outcome to `apply` in order; keeps those to retry later, moves the
   * rejected ones aside, and rewrites the spool atomically with what is left.
   */
  replay(apply: (outcome: SpooledOutcome) => Promise<ReplayResult>): Promise<void> {
    return this.exclusive(async () => {
      if (this.pending === 0) return;
      const lines = await readLines(this.file);
      const keep: string[] = [];
      for (const [index, line] of lines.entries()) {
        const outcome = parse(line);
        const result = outcome ? await apply(outcome) : 'rejected';
        if (result === 'retry-later') {
          keep.push(...lines.slice(index));
          break;
        }
        if (result === 'rejected') {
          // The line holds the question's answer: the log names the row, never the text.
          this.logger.error(
            { questionId: outcome?.id, kind: outcome?.kind, file: this.rejectedFile },
            outcome
              ? 'spooled outcome rejected; kept in the rejected spool'
              : 'unreadable spool line; kept in the rejected spool',
          );
          await appendDurably(this.rejectedFile, `${line}\n`);
        }
      }
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, keep.map((line) => `${line}\n`).join(''), { flush: true });
      await rename(tmp, this.file);
      // Else a power loss could bring back the lines just replayed.
      await syncDirectory(dirname(this.file));
      const replayed = lines.length - keep.length;
      if (replayed > 0)
        this.logger.info({ replayed, left: keep.length }, 'spooled outcomes replayed');
      this.pending = keep.length;
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** More processes than this on one DATA_DIR is a misconfiguration, not a workload. */
const MAX_SLOTS = 256;

/** The file in a spool naming the process (its lease's owner) that writes it. */
const OWNER_FILE = 'owner';

/** The slots of one host: their names, and whether a name is one of them. */
interface SlotFamily {
  name(slot: number | string): string;
  has(name: string): boolean;
}

/** `spool`, `spool-2`, … without a host; `spool@<host>`, `spool@<host>#2`, … with one. */
function slotFamily(host: string | undefined): SlotFamily {
  if (host === undefined) {
    return {
      name: (slot) => (slot === 1 ? 'spool' : `spool-${slot}`),
      has: (name) => /^spool(-\d+)?$/.test(name),
    };
  }
  // '#' is no hostname's, so one host's names never look like another's.
  const base = `spool@${host.replace(/[^\w.-]/g, '_')}`;
  return {
    name: (slot) => (slot === 1 ? base : `${base}#${slot}`),
    has: (name) =>
      name === base || (name.startsWith(`${base}#`) && !name.slice(base.length + 1).includes('#')),
  };
}

function isHostSlot(name: string): boolean {
  return name.startsWith('spool@');
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then(
    (info) => info.size,
    () => 0,
  );
}

async function appendDurably(file: string, text: string) {
  const handle = await open(file, 'a');
  let created: boolean;
  try {
    created = (await handle.stat()).size === 0;
    await handle.appendFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // A new file's name is in its directory, which a power loss can lose unless it is synced too.
  if (created) await syncDirectory(dirname(file));
}

async function syncDirectory(directory: string) {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function parse(line: string): SpooledOutcome | undefined {
  try {
    const value = JSON.parse(line) as SpooledOutcome;
    return typeof value.id === 'number' && (value.kind === 'answered' || value.kind === 'failed')
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}
