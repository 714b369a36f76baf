import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ask } from './helpers/askbase.js';
import { useAskbaseSuite } from './helpers/suite.js';
import { waitFor } from './helpers/wait-for.js';

/**
 * The pids that served a request with 200, from a process's access log: a worker answers 503
 * until its own database connection is ready, so a 200 says it is.
 */
function servingPids(output: string): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split('\n')) {
    if (!line.includes('"request completed"')) continue;
    const { pid, statusCode } = JSON.parse(line) as { pid: number; statusCode: number };
    if (statusCode === 200) pids.add(pid);
  }
  return pids;
}

/**
 * GET on a connection of its own (the cluster hands out connections, not requests): its
 * status, or 0 when it failed. A connection handed to a worker as it was killed is lost, as
 * with any process killed, and is given up after `timeoutMs`.
 */
function getOnNewConnection(url: string, timeoutMs = 60_000): Promise<number> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(0));
  });
}

// Real processes start slowly on a loaded machine: the bound only guards against a hang.
describe('WORKERS: several askbase processes on one port', { timeout: 120_000 }, () => {
  // Never migrated: the first test's two workers both start by migrating it, at once.
  const suite = useAskbaseSuite({ database: 'postgres, unmigrated', askbase: false });

  it('when WORKERS=2, then two processes serve the port, and SIGTERM drains both: the ask in flight is answered and stored, and it exits 0', async () => {
    const askbase = await suite.spawn({ WORKERS: '2' });
    // Readiness says one worker is up; new connections go round the workers once all are.
    const pids = await waitFor(
      async () => {
        await getOnNewConnection(`${askbase.url}/qas?limit=1`);
        const seen = servingPids(askbase.output());
        return seen.size >= 2 && seen;
      },
      { what: 'requests served by two processes', timeoutMs: 60_000 },
    );
    suite.fake.hold();
    const asked = ask(askbase.url, { question: 'Still answered while stopping?' });
    await suite.fake.waitForInFlight(1);

    askbase.child.kill('SIGTERM');
    suite.fake.release();
    const response = await asked;

    expect(pids.size).toBe(2);
    expect(pids.has(askbase.child.pid ?? 0)).toBe(false);
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: number };
    expect(await askbase.exited).toBe(0);
    const [row] = await suite.db.query<{ status: string }>(
      'select status from question_answers where id = $1',
      [id],
    );
    expect(row?.status).toBe('answered');
  });

  it('when WORKERS=2 serve requests, then /metrics counts the requests of both', async () => {
    const askbase = await suite.spawn({ WORKERS: '2', OPENAI_BASE_URL: undefined });
    // A worker answers 503 until its database is ready: only the 200s are counted below.
    let sent = 0;
    await waitFor(
      async () => {
        if ((await getOnNewConnection(`${askbase.url}/qas?limit=1`)) === 200) sent += 1;
        return servingPids(askbase.output()).size >= 2;
      },
      { what: 'requests served by two processes', timeoutMs: 60_000 },
    );

    const counted = async () => {
      const text = await (await fetch(`${askbase.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) =>
          l.startsWith('askbase_http_requests_total{method="GET",route="/qas",status_code="200"}'),
        );
      return Number(line?.split(' ').at(-1));
    };

    // A request is counted just after its response is sent: the last may still be on its way.
    const total = await waitFor(async () => (await counted()) >= sent && counted(), {
      what: `/metrics to count all ${sent} requests`,
      timeoutMs: 60_000,
    });
    expect(total).toBe(sent);
    askbase.child.kill('SIGTERM');
    expect(await askbase.exited).toBe(0);
  });

  it('when a worker is killed, then another takes its place', async () => {
    const askbase = await suite.spawn({ WORKERS: '2', OPENAI_BASE_URL: undefined });
    const first = await waitFor(
      async () => {
        await getOnNewConnection(`${askbase.url}/qas?limit=1`);
        const seen = servingPids(askbase.output());
        return seen.size >= 2 && [...seen];
      },
      { what: 'requests served by two processes', timeoutMs: 60_000 },
    );

    process.kill(first[0] ?? 0, 'SIGKILL');
    const replaced = await waitFor(
      async () => {
        await getOnNewConnection(`${askbase.url}/qas?limit=1`, 2_000);
        const seen = [...servingPids(askbase.output())].filter((pid) => !first.includes(pid));
        return seen.length > 0 && seen;
      },
      { what: 'a new worker serving', timeoutMs: 60_000 },
    );

    expect(replaced).toHaveLength(1);
    askbase.child.kill('SIGTERM');
    expect(await askbase.exited).toBe(0);
  });

  it('when WORKERS=2 is set on the embedded database, then askbase says why in one line and exits 1', async () => {
    const askbase = await suite.spawn(
      { WORKERS: '2', DATABASE_URL: undefined, OPENAI_BASE_URL: undefined },
      { waitUntilReady: false },
    );

    expect(await askbase.exited).toBe(1);
    expect(askbase.output().trim()).toBe(
      'askbase: invalid configuration: WORKERS above 1 needs DATABASE_URL: the embedded database belongs to one process',
    );
  });
});
