import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ask } from '../helpers/askbase.js';
import type { AskbaseProcess } from '../helpers/askbase-process.js';
import pg from 'pg';
import { createPostgresServer } from '../helpers/postgres-server.js';
import { unique } from '../helpers/each-database.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { waitFor } from '../helpers/wait-for.js';

/** A process whose clock is an hour off: leases must be timed by the database's clock alone. */
const CLOCK_AN_HOUR_BEHIND = `--import=data:text/javascript,${encodeURIComponent(
  'const real = Date.now; const off = () => real() - 3600000;' +
    'globalThis.Date = class extends Date { constructor(...a) { if (a.length === 0) super(off()); else super(...a); } static now() { return off(); } };',
)}`;

// Real processes on one PostgreSQL; the bound only guards against a hang.
describe('leases: every process knows who is alive', { timeout: 120_000 }, () => {
  /** Each test's askbase processes have a short lease, on the suite's database. */
  const suite = useAskbaseSuite({
    askbase: false,
    env: { OPENAI_MAX_RETRIES: '0', LEASE_TTL_MS: '1000', SPOOL_REPLAY_INTERVAL_MS: '100' },
  });
  const start = suite.spawn;
  const rowOf = async (question: string) =>
    (
      await suite.db.query<{ id: string; status: string; error_code: string | null }>(
        'select id, status, error_code from question_answers where question = $1',
        [question],
      )
    )[0];
  /** An ask the fake holds (it answers once released), and its row once stored. */
  const holdAsk = async (askbase: AskbaseProcess, prefix: string) => {
    const question = unique(prefix);
    const response = ask(askbase.url, { question }).catch(() => undefined);
    await waitFor(async () => (await rowOf(question)) !== undefined, { what: `${prefix} stored` });
    return { question, response };
  };

  it('when a process is killed, then another fails its asks as interrupted at once, and never the live ones, whatever their clocks say', async () => {
    const steady = await start();
    const behind = await start({ NODE_OPTIONS: CLOCK_AN_HOUR_BEHIND });
    const doomed = await start();
    suite.fake.hold();
    const mine = await holdAsk(steady, 'steady ');
    const theirs = await holdAsk(behind, 'behind ');
    const lost = await holdAsk(doomed, 'doomed ');

    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // Its ask's deadline is two minutes away (ASK_TIMEOUT_MS): only the lease tells.
    await waitFor(async () => (await rowOf(lost.question))?.error_code === 'interrupted', {
      what: "the killed process's ask to be failed by another",
    });
    // By now both live processes have judged the leases: neither failed a live ask.
    expect((await rowOf(mine.question))?.status).toBe('pending');
    expect((await rowOf(theirs.question))?.status).toBe('pending');

    suite.fake.release();
    const answered = await Promise.all([mine.response, theirs.response]);
    expect(answered.map((r) => r?.status)).toEqual([200, 200]);
    const retried = await fetch(`${steady.url}/qa/${(await rowOf(lost.question))?.id}/retry`, {
      method: 'POST',
    });
    expect(retried.status).toBe(200);
  });

  it('when a process is restarted alone after a crash, then its earlier asks are failed at its first recovery', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'askbase-lease-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    // A lease far longer than the wait below, and the two-minute deadline: only knowing it is
    // the same instance (the same DATA_DIR's spool) can fail the ask at once.
    const env = {
      DATA_DIR: dataDir,
      LEASE_TTL_MS: '600000',
      OPENAI_MAX_RETRIES: undefined,
      SPOOL_REPLAY_INTERVAL_MS: undefined,
    };
    const first = await suite.spawn(env);
    suite.fake.hold();
    const lost = await holdAsk(first, 'restarted ');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await suite.spawn(env);
    await waitFor(() => second.output().includes('marked interrupted questions as failed'), {
      what: 'the restart to fail its earlier ask',
    });
    expect((await rowOf(lost.question))?.error_code).toBe('interrupted');
    suite.fake.release();
  });

  it('when a process is paused past its lease, then its ask is failed meanwhile, and its answer still counts when it resumes', async () => {
    const watcher = await start();
    const sleeper = await start();
    suite.fake.hold();
    const held = await holdAsk(sleeper, 'paused ');
    sleeper.child.kill('SIGSTOP');
    await waitFor(async () => (await rowOf(held.question))?.error_code === 'interrupted', {
      what: "the paused process's ask to be failed by the watcher",
    });
    expect(watcher.child.exitCode).toBeNull();

    sleeper.child.kill('SIGCONT');
    suite.fake.release();
    expect((await held.response)?.status).toBe(200);
    // The answer it paid for replaces the interruption.
    await waitFor(async () => (await rowOf(held.question))?.status === 'answered', {
      what: 'the late answer to be stored',
    });
  });

  it('when the database was away longer than a lease, then no live process is taken for dead when it returns', async () => {
    const server = await createPostgresServer();
    onTestFinished(() => server.destroy());
    const env = { DATABASE_URL: server.url, DB_CONNECT_BACKOFF_MAX_MS: '200' };
    const first = await start(env);
    const second = await start(env);
    const doomed = await start(env);
    suite.fake.hold();
    const lost = unique('doomed ');
    const live = unique('live ');
    const asks = [ask(doomed.url, { question: lost }), ask(first.url, { question: live })].map(
      (pending) => pending.catch(() => undefined),
    );
    await suite.fake.waitForInFlight(2);
    doomed.child.kill('SIGKILL');
    await server.stop();
    await waitFor(
      () => [first, second].every((p) => p.output().includes('lease heartbeat failed')),
      { what: 'both live processes to miss their heartbeat' },
    );
    // Longer than a lease (1 s): every lease, the live ones too, looks expired on return.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await server.start();

    const client = new pg.Client(server.url);
    await client.connect();
    onTestFinished(() => client.end());
    const status = async (question: string) =>
      (
        await client.query<{ status: string; error_code: string | null }>(
          'select status, error_code from question_answers where question = $1',
          [question],
        )
      ).rows[0];
    // The dead process's ask is failed once a live process has judged again...
    await waitFor(async () => (await status(lost))?.error_code === 'interrupted', {
      what: "the killed process's ask to be failed",
    });
    // ...and by then the live process's ask has not been.
    expect((await status(live))?.status).toBe('pending');
    suite.fake.release();
    await Promise.all(asks);
  });
});
