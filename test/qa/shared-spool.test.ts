import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { unique } from '../helpers/each-database.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { waitFor } from '../helpers/wait-for.js';

// Real processes, as two hosts sharing a spool directory (INSTANCE_NAME stands for the host).
describe('spools that outlive their process', { timeout: 120_000 }, () => {
  // The test stops the suite's own PostgreSQL server while a host holds answers.
  const suite = useAskbaseSuite({
    database: 'postgres server',
    askbase: false,
    env: {
      LEASE_TTL_MS: '1000',
      SPOOL_REPLAY_INTERVAL_MS: '100',
      ANSWER_STORE_ATTEMPTS: '1',
      DB_CONNECT_BACKOFF_MAX_MS: '200',
    },
  });

  it('when a host holding spooled answers dies for good, then another stores every one of them, once', async () => {
    const { server } = suite;
    const spoolDir = mkdtempSync(join(tmpdir(), 'askbase-spools-'));
    onTestFinished(() => rmSync(spoolDir, { recursive: true, force: true }));
    const start = (host: string) => suite.spawn({ SPOOL_DIR: spoolDir, INSTANCE_NAME: host });
    const doomed = await start('host-a');
    const survivor = await start('host-b');
    expect(readdirSync(spoolDir).sort()).toEqual([
      'spool@host-a',
      'spool@host-a.lock',
      'spool@host-b',
      'spool@host-b.lock',
    ]);

    // Three answers arrive while PostgreSQL is away: host-a spools them, then dies.
    suite.fake.hold();
    const questions = [unique('kept '), unique('kept '), unique('kept ')];
    const answers = questions.map((question) => ask(doomed.url, { question }));
    await suite.fake.waitForInFlight(3);
    await server.stop();
    suite.fake.release();
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual([200, 200, 200]);
    await waitFor(() => doomed.output().split('outcome spooled to disk').length === 4, {
      what: 'the three answers to be spooled',
    });
    doomed.child.kill('SIGKILL');
    await doomed.exited;

    await server.start();
    const client = new pg.Client(server.url);
    await client.connect();
    onTestFinished(() => client.end());
    const stored = async () =>
      (
        await client.query<{ question: string; status: string; answer: string }>(
          'select question, status, answer from question_answers where question = any($1) order by question',
          [questions],
        )
      ).rows;
    await waitFor(async () => (await stored()).every((row) => row.status === 'answered'), {
      what: "host-b to store host-a's spooled answers",
    });
    expect((await stored()).map((row) => row.answer)).toEqual(
      [...questions].sort().map((question) => `Answer to: ${question}`),
    );
    expect(survivor.output()).toContain('claimed the spool of a process on a host that is gone');
    // Claimed once: host-a's spool is gone from the shared directory, and host-b replayed it.
    expect(readdirSync(spoolDir).filter((name) => name.startsWith('spool@host-a'))).toEqual([
      'spool@host-a.lock',
    ]);
    expect(survivor.output().split('replaying the spool of a process that is gone').length).toBe(2);
  });
});
