import { mkdirSync } from 'node:fs';
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredAnswer } from '../domain/question-answer.js';
import type { Logger } from '../logger.js';

/**
 * An outcome that could not be written to the database yet. `attempt` is absent in entries
 * spooled by versions before attempts were recorded.
 */
export type SpooledOutcome =
  | { kind: 'answered'; id: number; attempt?: number; answer: StoredAnswer; answeredAt: string }
  | { kind: 'failed'; id: number; attempt?: number; code: string; message: string };

export type ReplayResult = 'applied' | 'retry-later' | 'rejected';

/**
 * A local write-ahead spool for outcomes the database could not take: JSON lines under
 * DATA_DIR, each fsynced before the client is answered, replayed once the database is back.
 * Entries the database rejects for good go to a separate file for a person to look at;
 * nothing is ever silently dropped.
 */
export class OutcomeSpool {
  private queue: Promise<unknown> = Promise.resolve();
  private pending: number;

  private constructor(
    private readonly file: string,
    private readonly rejectedFile: string,
    private readonly logger: Logger,
    pending: number,
  ) {
    this.pending = pending;
  }

  static async open(directory: string, logger: Logger): Promise<OutcomeSpool> {
    mkdirSync(directory, { recursive: true });
    const file = join(directory, 'outcomes.jsonl');
    const pending = (await readLines(file)).length;
    if (pending > 0) logger.warn({ pending, file }, 'spooled outcomes found; replaying them');
    return new OutcomeSpool(file, join(directory, 'outcomes.rejected.jsonl'), logger, pending);
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
          this.logger.error({ line }, 'spooled outcome rejected; kept in the rejected spool');
          await appendDurably(this.rejectedFile, `${line}\n`);
        }
      }
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, keep.map((line) => `${line}\n`).join(''), { flush: true });
      await rename(tmp, this.file);
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

async function appendDurably(file: string, text: string) {
  const handle = await open(file, 'a');
  try {
    await handle.appendFile(text);
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
