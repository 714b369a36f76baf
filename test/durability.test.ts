import { once } from 'node:events';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ask } from './helpers/askbase.js';
import { JSON_CONTENT_TYPE, type QaJson, expectOk } from './helpers/http.js';
import { waitFor } from './helpers/wait-for.js';
import { useAskbaseSuite } from './helpers/suite.js';

/** POST /ask over node:http with `agent`, so the test owns the keep-alive connection. */
function askWithAgent(baseUrl: string, question: string, agent: Agent) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = request(
        `${baseUrl}/ask`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ question }));
    },
  );
}

describe('durability and connection use on PostgreSQL', () => {
  // Each test starts askbase on a fresh database of its own.
  const suite = useAskbaseSuite({ database: 'none', askbase: false });

  it('when the app restarts on the same database, then a stored question reads back unchanged', async () => {
    const { askbase: first, db } = await suite.startAlone();
    const posted = await expectOk<QaJson>(await ask(first.url, { question: 'Will I survive?' }));
    await first.stop();

    const second = await suite.start({ DATABASE_URL: db.url });
    const got = await expectOk<QaJson>(await fetch(`${second.url}/qa/${posted.id}`));
    expect(got).toEqual(posted);
    expect(got.status).toBe('answered');
  });

  it('when 200 asks all wait on a slow LLM, then they hold no database connections and all succeed', async () => {
    const poolMax = 5;
    const asks = 200;
    // The gate holds the LLM calls until all 200 are waiting, whatever the machine's speed;
    // then the fake answers each after 300 ms.
    const gate = await suite.gate();
    const { askbase, db } = await suite.startAlone({
      OPENAI_BASE_URL: gate.baseUrl,
      DB_POOL_MAX: String(poolMax),
    });
    suite.fake.setBehavior({ latencyMs: 300 });

    const responses = Array.from({ length: asks }, (_, i) =>
      ask(askbase.url, { question: `Concurrent #${i}?` }),
    );
    await waitFor(() => gate.held() === asks, {
      what: `${asks} asks waiting on the LLM`,
      timeoutMs: 25_000,
    });
    const stats = askbase.database.poolStats();
    const [activity] = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where datname = $1 and pid <> pg_backend_pid()`,
      [db.name],
    );
    const [pending] = await db.query<{ n: number }>(
      `select count(*)::int as n from question_answers where status = 'pending'`,
    );
    gate.open();
    const bodies = await Promise.all(
      responses.map(async (response) => expectOk<QaJson>(await response)),
    );

    expect(stats).toBeDefined();
    expect(stats!.total - stats!.idle, 'connections checked out').toBe(0);
    expect(stats!.waiting).toBe(0);
    expect(stats!.total).toBeLessThanOrEqual(poolMax);
    expect(activity?.n, 'connections in pg_stat_activity').toBeLessThanOrEqual(poolMax);
    expect(pending?.n, 'questions stored as pending before the LLM answers').toBe(asks);
    expect(bodies.every((body) => body.status === 'answered')).toBe(true);
    expect(new Set(bodies.map((body) => body.id)).size).toBe(asks);
    const [answered] = await db.query<{ n: number }>(
      `select count(*)::int as n from question_answers where status = 'answered'`,
    );
    expect(answered?.n).toBe(asks);
  });

  it('when the app stops while an ask waits on the LLM, then the client gets 200 and the row is answered', async () => {
    const { askbase, db } = await suite.startAlone();
    suite.fake.setBehavior({ answer: () => 'Made it.' });
    suite.fake.hold();
    const agent = new Agent({ keepAlive: true });
    try {
      const pending = askWithAgent(askbase.url, 'Will you finish?', agent);
      await suite.fake.waitForInFlight(1);
      const stopped = askbase.stop();
      suite.fake.release();
      const response = await pending;
      // A keep-alive client hangs up eventually; here it does so at once, so the stop can end.
      agent.destroy();
      await stopped;

      expect(response.status, response.body).toBe(200);
      const body = JSON.parse(response.body) as QaJson;
      expect(body).toMatchObject({ status: 'answered', answer: 'Made it.' });
      const [row] = await db.query('select status, answer from question_answers where id = $1', [
        body.id,
      ]);
      expect(row).toEqual({ status: 'answered', answer: 'Made it.' });
    } finally {
      agent.destroy();
    }
  });

  it('when the app stops while a keep-alive client waits on an ask, then stop() ends once the ask is answered, without waiting for the client to hang up', async () => {
    const { askbase } = await suite.startAlone();
    suite.fake.hold();
    const agent = new Agent({ keepAlive: true });
    try {
      const pending = askWithAgent(askbase.url, 'Can you stop?', agent);
      await suite.fake.waitForInFlight(1);
      let stopped = false;
      const stopping = askbase.stop().then(() => {
        stopped = true;
      });
      suite.fake.release();
      const response = await pending;
      expect(response.status).toBe(200);

      // Not a timing assertion: the server's keep-alive timeout is 72 s and SHUTDOWN_GRACE_MS
      // defaults to 30 s, so a stop that waits for the client to leave is far past this bound.
      await waitFor(() => stopped, {
        what: 'stop() to finish while the client keeps its connection open',
        timeoutMs: 20_000,
        intervalMs: 20,
      });
      await stopping;
    } finally {
      // Lets a stuck stop() finish, so the cleanup does not hang too.
      agent.destroy();
    }
  });

  it('when a client opened a connection and sent nothing on it, then stop() does not wait for it', async () => {
    const { askbase } = await suite.startAlone();
    const { hostname, port } = new URL(askbase.url);
    // Browsers open connections ahead of the requests they may send on them.
    const unused = connect(Number(port), hostname);
    await once(unused, 'connect');
    try {
      let stopped = false;
      const stopping = askbase.stop().then(() => {
        stopped = true;
      });

      // Not a timing assertion: Node waits a minute (headersTimeout) for such a connection.
      await waitFor(() => stopped, {
        what: 'stop() to finish while an unused connection is open',
        timeoutMs: 20_000,
        intervalMs: 20,
      });
      await stopping;
    } finally {
      unused.destroy();
    }
  });

  it('when a request comes on a kept-alive connection while the app is stopping, then it is refused in the contract error shape or the connection is closed', async () => {
    const { askbase } = await suite.startAlone();
    suite.fake.hold();
    // One socket: the second request waits for the first one's connection and reuses it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = askWithAgent(askbase.url, 'First?', agent);
      await suite.fake.waitForInFlight(1);
      const stopping = askbase.stop();
      const second = askWithAgent(askbase.url, 'Second?', agent).then(
        (response) => response,
        (error: NodeJS.ErrnoException) => error,
      );
      suite.fake.release();

      expect((await first).status).toBe(200);
      const outcome = await second;
      agent.destroy();
      await stopping;

      if (outcome instanceof Error) {
        expect(outcome.code).toMatch(/^(ECONNREFUSED|ECONNRESET|EPIPE)$/);
      } else {
        expect(outcome.status, outcome.body).toBe(503);
        expect(outcome.headers['content-type'], outcome.body).toBe(JSON_CONTENT_TYPE);
        const body = JSON.parse(outcome.body) as { error: unknown };
        expect(body.error, outcome.body).toEqual({
          code: expect.any(String) as string,
          message: expect.any(String) as string,
        });
      }
    } finally {
      agent.destroy();
    }
  });
});
