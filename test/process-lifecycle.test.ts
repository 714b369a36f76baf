import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ask } from './helpers/askbase.js';
import { expectError } from './helpers/http.js';
import { useAskbaseSuite } from './helpers/suite.js';
import { waitFor } from './helpers/wait-for.js';

interface Qa {
  id: number;
  status: string;
  answer: string | null;
  error: { code: string } | null;
}

// Real processes and the embedded database start slowly on a loaded machine: the bound
// only guards against a hang.
describe('askbase as a process: signals, crashes and recovery', { timeout: 120_000 }, () => {
  const suite = useAskbaseSuite({ askbase: false, env: { OPENAI_MAX_RETRIES: '0' } });
  const start = suite.spawn;

  it('when SIGTERM arrives under load, then new connections are refused, every ask in flight is answered and stored, and it exits 0', async () => {
    const askbase = await start();
    suite.fake.hold();
    const asks = Array.from({ length: 20 }, (_, i) =>
      ask(askbase.url, { question: `In flight ${i}` }),
    );
    await suite.fake.waitForInFlight(20);

    askbase.child.kill('SIGTERM');
    // The listener closes as the stop begins; the bound only guards against a hang.
    await expect.poll(() => connectionAttempt(askbase.url), { timeout: 20_000 }).toBe('refused');
    suite.fake.release();
    const responses = await Promise.all(asks);

    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(await askbase.exited).toBe(0);
    const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as Qa).id));
    const rows = await suite.db.query<{ status: string }>(
      'select status from question_answers where id = any($1)',
      [ids],
    );
    expect(rows.map((row) => row.status)).toEqual(Array(20).fill('answered'));
  });

  it('when the server is killed mid-ask, then after a restart the question is failed as interrupted and can be retried under the same id', async () => {
    // Recovery waits out the ask's deadline and the time storing its outcome may take.
    const quick = {
      ASK_TIMEOUT_MS: '500',
      ANSWER_STORE_ATTEMPTS: '1',
      SPOOL_REPLAY_INTERVAL_MS: '100',
    };
    const first = await start(quick);
    suite.fake.setBehavior({ fault: 'hang' });
    const lost = ask(first.url, { question: 'Will I be forgotten?' }).catch(
      () => 'connection lost',
    );
    await suite.fake.waitForInFlight(1);
    first.child.kill('SIGKILL');
    expect(await lost).toBe('connection lost');
    const [orphan] = await suite.db.query<{ id: string; status: string }>(
      "select id, status from question_answers where question = 'Will I be forgotten?'",
    );
    expect(orphan?.status).toBe('pending');

    suite.fake.setBehavior({ answer: () => 'Never forgotten.' });
    const second = await start(quick);
    await expect
      .poll(
        async () =>
          ((await (await fetch(`${second.url}/qa/${orphan?.id}`)).json()) as Qa).error?.code,
        { timeout: 20_000 },
      )
      .toBe('interrupted');

    const retried = await fetch(`${second.url}/qa/${orphan?.id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({
      id: Number(orphan?.id),
      status: 'answered',
      answer: 'Never forgotten.',
    });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

describe('askbase as a process on the embedded database: a crash', { timeout: 120_000 }, () => {
  const suite = useAskbaseSuite({
    database: 'embedded',
    askbase: false,
    env: { OPENAI_MAX_RETRIES: '0' },
  });

  it('when it is killed mid-ask and restarted, then the question is interrupted at once, not at its deadline, and can be retried', async () => {
    // The defaults: the ask's deadline (ASK_TIMEOUT_MS) is two minutes away.
    const first = await suite.spawn();
    suite.fake.setBehavior({ fault: 'hang' });
    const lost = ask(first.url, { question: 'Lost in a crash?' }).catch(() => 'connection lost');
    await suite.fake.waitForInFlight(1);
    first.child.kill('SIGKILL');
    expect(await lost).toBe('connection lost');
    await first.exited;

    suite.fake.setBehavior({ answer: () => 'Found again.' });
    const second = await suite.spawn();
    // Its first recovery, right after the database is ready, reports what it failed.
    await waitFor(() => second.output().includes('marked interrupted questions as failed'), {
      what: 'the restart to fail the crashed ask',
    });
    const [orphan] = (await (await fetch(`${second.url}/qas?status=failed`)).json()) as Qa[];
    expect(orphan?.error?.code).toBe('interrupted');
    const retried = await fetch(`${second.url}/qa/${orphan?.id}/retry`, { method: 'POST' });
    expect(await retried.json()).toMatchObject({ status: 'answered', answer: 'Found again.' });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

// Real processes and the embedded database start slowly on a loaded machine: the bound
// only guards against a hang.
describe('askbase as a process: the shutdown grace', { timeout: 120_000 }, () => {
  const suite = useAskbaseSuite({ askbase: false });

  it('when an ask outlasts the shutdown grace, then at the grace its client gets 503 interrupted with the id, the row is failed as interrupted, and the process exits 0', async () => {
    const askbase = await suite.spawn({ SHUTDOWN_GRACE_MS: '300' });
    suite.fake.setBehavior({ fault: 'hang' });
    const asking = ask(askbase.url, { question: 'Outlasting the grace?' });
    await suite.fake.waitForInFlight(1);

    askbase.child.kill('SIGTERM');
    const { error } = await expectError(await asking, 503, 'interrupted');

    expect(await askbase.exited).toBe(0);
    const [row] = await suite.db.query(
      'select status, error_code from question_answers where id = $1',
      [error.id],
    );
    expect(row).toEqual({ status: 'failed', error_code: 'interrupted' });
  });
});

/** A fresh TCP connection, never a pooled keep-alive one. */
function connectionAttempt(url: string): Promise<'accepted' | 'refused'> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', () => resolve('refused'));
  });
}
