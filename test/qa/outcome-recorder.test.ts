import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { OutcomeRecorder } from '../../src/qa/outcome-recorder.js';
import { OutcomeSpool } from '../../src/qa/outcome-spool.js';
import { QuestionRepository } from '../../src/repository/question-repository.js';
import { closedPortBaseUrl } from '../helpers/http.js';
import { useDatabaseSuite } from '../helpers/suite.js';

const logger = createLogger('silent');

describe('the outcome recorder, alone: durability without the LLM or HTTP', () => {
  const suite = useDatabaseSuite({ poolMax: 2 });
  let reachable: Database;
  let unreachable: Database;
  let spoolDir: string;

  beforeAll(async () => {
    reachable = suite.database;
    // Nothing listens there: every statement fails as "database unavailable".
    const closed = new URL(await closedPortBaseUrl());
    unreachable = await openDatabase({
      url: `postgres://askbase:none@127.0.0.1:${closed.port}/askbase`,
      poolMax: 1,
      logger,
    });
    spoolDir = await mkdtemp(join(tmpdir(), 'askbase-test-spool-'));
  });
  afterAll(async () => {
    await unreachable?.close();
    await rm(spoolDir, { recursive: true, force: true });
  });

  const recorder = (database: Database, spool: OutcomeSpool) =>
    new OutcomeRecorder({
      store: new QuestionRepository(database),
      spool,
      storeAttempts: 2,
      storeBackoffMs: 1,
      logger,
    });

  it('when the spool holds a line the database refuses or that cannot be read, then it is set aside and no log line carries its text', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'askbase-test-spool-'));
    const lines: string[] = [];
    const capturing = createLogger(
      'trace',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    );
    try {
      const secret = 'spooled-secret-answer-text';
      const refused = { kind: 'answered', id: 1, attempt: 1, answer: { text: secret } };
      await writeFile(
        join(dir, 'outcomes.jsonl'),
        `${JSON.stringify(refused)}\n{"broken": "${secret}"\n`,
      );
      const spool = await OutcomeSpool.open(dir, capturing);

      await spool.replay(async () => 'rejected');

      expect(lines.join('')).not.toContain(secret);
      expect(lines.join('')).toContain('"questionId":1');
      expect(await readFile(join(dir, 'outcomes.rejected.jsonl'), 'utf8')).toContain(secret);
      expect(spool.size()).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('when the database cannot take an answer, then it is spooled to disk, and a later replay stores it on its row', async () => {
    const store = new QuestionRepository(reachable);
    const { questionAnswer: pending } = await store.createPending('Kept through an outage?', {
      deadlineMs: 60_000,
    });
    const spool = await OutcomeSpool.open(spoolDir, logger);
    const answer = { text: 'Yes.', model: 'm', usage: null, latencyMs: 5 };

    const stored = await recorder(unreachable, spool).record({
      kind: 'answered',
      id: pending.id,
      attempt: pending.attempt,
      answer,
      answeredAt: new Date().toISOString(),
    });

    expect(stored).toBeUndefined();
    expect(spool.size()).toBe(1);
    expect(await readFile(join(spoolDir, 'outcomes.jsonl'), 'utf8')).toContain(
      `"id":${pending.id}`,
    );

    const emptied = await recorder(reachable, spool).replay();

    expect(emptied).toBe(true);
    expect(spool.size()).toBe(0);
    expect(await store.get(pending.id)).toMatchObject({ status: 'answered', answer: 'Yes.' });
  });

  describe('one DATA_DIR, several processes', () => {
    /** An outcome line as a process spools it, for a pending row of its own. */
    async function spooledAnswer(text: string) {
      const { questionAnswer } = await new QuestionRepository(reachable).createPending(
        'Spooled by another process?',
        { deadlineMs: 60_000 },
      );
      const line = JSON.stringify({
        kind: 'answered',
        id: questionAnswer.id,
        attempt: questionAnswer.attempt,
        answer: { text, model: 'm', usage: null, latencyMs: 5 },
        answeredAt: new Date().toISOString(),
      });
      return { id: questionAnswer.id, line };
    }
    /** Leaves `slot` as a process with `pid` left it: its spool and its lock file. */
    async function leaveSlot(dataDir: string, slot: string, line: string, pid: number) {
      await mkdir(join(dataDir, slot), { recursive: true });
      await writeFile(join(dataDir, slot, 'outcomes.jsonl'), `${line}\n`);
      await writeFile(join(dataDir, `${slot}.lock`), `${pid}\nits-token\n`);
    }

    it('when two spools open on one DATA_DIR, then each takes a slot of its own, and a closed slot is taken again', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'askbase-test-slots-'));
      try {
        const first = await OutcomeSpool.openFreeSlot(dataDir, logger);
        const second = await OutcomeSpool.openFreeSlot(dataDir, logger);
        first.close();
        const third = await OutcomeSpool.openFreeSlot(dataDir, logger);
        second.close();
        third.close();

        expect([first, second, third].map((spool) => spool.directory)).toEqual([
          join(dataDir, 'spool'),
          join(dataDir, 'spool-2'),
          join(dataDir, 'spool'),
        ]);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    it('when the process that spooled outcomes is gone, then another adopts its spool and stores them', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'askbase-test-slots-'));
      try {
        const { id, line } = await spooledAnswer('Adopted.');
        const gone = spawnSync(process.execPath, ['-e', '0']).pid;
        await leaveSlot(dataDir, 'spool-2', line, gone);
        const spool = await OutcomeSpool.openFreeSlot(dataDir, logger);

        await recorder(reachable, spool).replay();
        spool.close();

        expect(await new QuestionRepository(reachable).get(id)).toMatchObject({
          status: 'answered',
          answer: 'Adopted.',
        });
        expect(await readFile(join(dataDir, 'spool-2', 'outcomes.jsonl'), 'utf8')).toBe('');
        expect(await readdir(dataDir)).not.toContain('spool-2.lock');
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    it('when the process that spooled outcomes is alive, then its spool is left to it', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'askbase-test-slots-'));
      try {
        const { id, line } = await spooledAnswer('Not yours.');
        await leaveSlot(dataDir, 'spool-2', line, process.ppid);
        const spool = await OutcomeSpool.openFreeSlot(dataDir, logger);

        await recorder(reachable, spool).replay();
        spool.close();

        expect(await new QuestionRepository(reachable).get(id)).toMatchObject({
          status: 'pending',
        });
        expect(await readFile(join(dataDir, 'spool-2', 'outcomes.jsonl'), 'utf8')).toBe(
          `${line}\n`,
        );
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
});
