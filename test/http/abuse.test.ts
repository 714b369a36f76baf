import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RunningAskbase, ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('abuse limits, API keys, security headers and logs', () => {
  // Each test starts the askbases it needs, with the limits it tries.
  const suite = useAskbaseSuite({ askbase: false });
  const start = suite.start;

  /** On a database of its own: the shared rate-limit counts are per database. */
  const startAlone = async (env: Record<string, string>) => (await suite.startAlone(env)).askbase;

  it.each(['memory', 'database'])(
    'when a client asks more than RATE_LIMIT_MAX times in a window (counted in %s), then 429 rate_limited with Retry-After, and reads stay open',
    async (store) => {
      const askbase = await startAlone({
        RATE_LIMIT_MAX: '2',
        RATE_LIMIT_WINDOW_MS: '60000',
        RATE_LIMIT_STORE: store,
      });

      const statuses = [];
      for (let i = 0; i < 3; i += 1)
        statuses.push(await ask(askbase.url, { question: `Rate ${i}` }));

      expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
      const limited = statuses[2]!;
      expect(limited.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await limited.json()) as ErrorBody).error.code).toBe('rate_limited');
      expect((await fetch(`${askbase.url}/qas`)).status).toBe(200);
    },
  );

  it.each(['memory', 'database'])(
    'when a client spends its budget across /ask and /qa/{id}/retry (counted in %s), then both draw on one budget',
    async (store) => {
      const askbase = await startAlone({
        RATE_LIMIT_MAX: '2',
        RATE_LIMIT_WINDOW_MS: '60000',
        RATE_LIMIT_STORE: store,
      });
      suite.fake.setBehavior({ fault: 'server_error' });
      const failed = await ask(askbase.url, { question: 'Budget shared?' });
      const { error } = (await failed.json()) as ErrorBody & { error: { id: number } };
      suite.fake.reset();

      const retried = await fetch(`${askbase.url}/qa/${error.id}/retry`, { method: 'POST' });
      const third = await ask(askbase.url, { question: 'Over budget?' });

      expect([failed.status, retried.status, third.status]).toEqual([503, 200, 429]);
    },
  );

  it('when two processes share a database, then a client has one budget across both (and one each with RATE_LIMIT_STORE=memory)', async () => {
    const limits = { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
    const shared = await startAlone(limits);
    const sharedToo = await start({ ...limits, DATABASE_URL: shared.config.databaseUrl ?? '' });
    const separate = await startAlone({ ...limits, RATE_LIMIT_STORE: 'memory' });
    const separateToo = await start({
      ...limits,
      RATE_LIMIT_STORE: 'memory',
      DATABASE_URL: separate.config.databaseUrl ?? '',
    });
    const alternate = async (a: RunningAskbase, b: RunningAskbase) => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        const response = await ask((i % 2 === 0 ? a : b).url, { question: `Shared budget ${i}` });
        await response.text();
        statuses.push(response.status);
      }
      return statuses;
    };

    expect(await alternate(shared, sharedToo)).toEqual([200, 200, 200, 429, 429, 429]);
    expect(await alternate(separate, separateToo)).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('when API keys are in use, then each key has its own budget, counted under its name, never the key', async () => {
    const askbase = await startAlone({
      RATE_LIMIT_MAX: '1',
      RATE_LIMIT_WINDOW_MS: '60000',
      API_KEYS: 'alice:alice-secret-key-1,bob:bob-secret-key-2',
    });
    const askAs = async (key: string) => {
      const response = await fetch(`${askbase.url}/ask`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ question: 'Whose budget?' }),
      });
      await response.text();
      return response.status;
    };

    const statuses = [
      await askAs('alice-secret-key-1'),
      await askAs('alice-secret-key-1'),
      await askAs('bob-secret-key-2'),
    ];

    expect(statuses).toEqual([200, 429, 200]);
    const counted = (await askbase.database.db.execute(
      sql`select key from rate_limit_hits order by key`,
    )) as { rows: { key: string }[] };
    expect(counted.rows.map((row) => row.key)).toEqual(['key:alice', 'key:bob']);
  });

  it('when RATE_LIMIT_MAX is not set, then no ask is refused for its rate', async () => {
    const askbase = await start({ RATE_LIMIT_MAX: '', RATE_LIMIT_WINDOW_MS: '1000' });

    const statuses = [];
    for (let i = 0; i < 70; i += 1) {
      statuses.push((await ask(askbase.url, { question: `Unlimited ${i}` })).status);
    }

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it('when LOG_LEVEL is silent, then even a failing health probe logs nothing', async () => {
    const { askbase, db: own } = await suite.startAlone(
      { LOG_LEVEL: 'silent' },
      { captureLogs: true },
    );
    await own.drop(); // the readiness probe now fails, which it reports as a warning

    expect((await fetch(`${askbase.url}/health/ready`)).status).toBe(503);
    expect((await fetch(`${askbase.url}/is_up`)).status).toBe(200);

    expect(askbase.logs).toEqual([]);
  });

  it('when storing an answer fails in the database, then the error is logged without the question or answer text', async () => {
    const { askbase, db: own } = await suite.startAlone(
      { LOG_LEVEL: 'info' },
      { captureLogs: true },
    );
    // Every update fails, with a row's text at hand for the error to carry.
    await own.query(`
      create function refuse_update() returns trigger language plpgsql as $$
        begin raise exception 'updates refused' using detail = 'row: ' || new.question; end $$;
      create trigger refuse_update before update on question_answers
        for each row execute function refuse_update();`);
    suite.fake.setBehavior({ answer: () => 'A confidential answer' });

    await ask(askbase.url, { question: 'A confidential question' });
    suite.fake.reset();

    const failures = askbase.logs.filter((line) => line.msg === 'storing an outcome failed');
    expect(failures).toHaveLength(1);
    const logged = JSON.stringify(askbase.logs);
    expect(logged).not.toContain('A confidential question');
    expect(logged).not.toContain('A confidential answer');
  });

  describe('when API_KEYS is set', () => {
    let askbase: RunningAskbase;
    beforeAll(async () => {
      askbase = await start(
        { API_KEYS: 'first-test-key, second-test-key', LOG_LEVEL: 'info' },
        { captureLogs: true },
      );
    });

    it.each(['/is_up', '/health/ready', '/docs', '/openapi.json'])(
      'then %s answers without a key',
      async (path) => {
        expect((await fetch(`${askbase.url}${path}`)).status).toBe(200);
      },
    );

    it('then the API document declares the bearer key, which the docs page can send', async () => {
      const document = (await (await fetch(`${askbase.url}/openapi.json`)).json()) as {
        components: { securitySchemes: Record<string, { type: string; scheme: string }> };
        security: Record<string, unknown>[];
        paths: Record<string, Record<string, { security?: unknown[] }>>;
      };

      expect(document.components.securitySchemes.apiKey).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      expect(document.security).toEqual([{ apiKey: [] }]);
      expect(document.paths['/is_up']?.get?.security).toEqual([]);
    });

    it.each([
      ['no Authorization header', {}],
      ['a wrong key', { authorization: 'Bearer not-a-key' }],
      ['a key as Basic credentials', { authorization: 'Basic first-test-key' }],
    ])('then a request with %s gets 401 unauthorized and stores nothing', async (_, headers) => {
      const before = await suite.db.query('select count(*) from question_answers');

      const responses = await Promise.all([
        fetch(`${askbase.url}/qas`, { headers }),
        ask(askbase.url, { question: 'Let me in' }, headers),
      ]);

      for (const response of responses) {
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(((await response.json()) as ErrorBody).error.code).toBe('unauthorized');
      }
      expect(await suite.db.query('select count(*) from question_answers')).toEqual(before);
    });

    it('then either key is accepted, and neither key nor question text reaches the logs', async () => {
      const question = 'A private question about my health';
      const first = await ask(
        askbase.url,
        { question },
        { authorization: 'Bearer first-test-key' },
      );
      const second = await fetch(`${askbase.url}/qas`, {
        headers: { authorization: 'Bearer second-test-key' },
      });

      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      const logged = JSON.stringify(askbase.logs);
      expect(askbase.logs.length).toBeGreaterThan(0);
      expect(logged).not.toContain('first-test-key');
      expect(logged).not.toContain('second-test-key');
      expect(logged).not.toContain(question);
      expect(askbase.logs.some((line) => typeof line.reqId === 'string')).toBe(true);
    });
  });

  it('when any route answers, then it carries security headers and, by default, no CORS headers', async () => {
    const askbase = await start({});

    const response = await fetch(`${askbase.url}/qas`, {
      headers: { origin: 'https://evil.example' },
    });

    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when CORS_ORIGINS lists an origin, then its preflight is allowed and other origins are not', async () => {
    const askbase = await start({ CORS_ORIGINS: 'https://app.example' });
    const preflight = (origin: string) =>
      fetch(`${askbase.url}/ask`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });

    const allowed = await preflight('https://app.example');
    const other = await preflight('https://evil.example');

    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when CORS_ORIGINS lists an origin, then a page there may read which row an exchange was stored as', async () => {
    const askbase = await start({ CORS_ORIGINS: 'https://app.example' });

    const response = await fetch(`${askbase.url}/qas`, {
      headers: { origin: 'https://app.example' },
    });

    const exposed = (response.headers.get('access-control-expose-headers') ?? '').split(/,\s*/);
    expect(exposed).toEqual(
      expect.arrayContaining(['x-askbase-id', 'x-askbase-conversation-id', 'link', 'retry-after']),
    );
  });

  it('when CORS_ORIGINS lists an origin, then a streamed ask carries the CORS and security headers as a JSON one does', async () => {
    const askbase = await start({ CORS_ORIGINS: 'https://app.example' });
    const headers = { origin: 'https://app.example' };

    const json = await ask(askbase.url, { question: 'CORS, JSON?' }, headers);
    const streamed = await ask(askbase.url, { question: 'CORS, streamed?', stream: true }, headers);
    await streamed.text();

    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    for (const name of ['access-control-allow-origin', 'x-content-type-options']) {
      expect(streamed.headers.get(name), name).toBe(json.headers.get(name));
      expect(streamed.headers.get(name), name).not.toBeNull();
    }
  });
});
