import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai/fake-openai.js';
import { type RunningAskbase, ask, startAskbase } from './helpers/askbase.js';
import { ISO_UTC, type QaJson, expectError, expectOk } from './helpers/http.js';

const journal = JSON.parse(
  readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8'),
) as { entries: { tag: string }[] };

// PGlite's first open of a new data directory takes seconds (WASM + initdb), so this file opens
// one directory once and reopens it once, in the restart test.
describe('the embedded PGlite database (no DATABASE_URL)', { timeout: 60_000 }, () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let env: Record<string, string>;
  /** The askbase running on `dataDir`; the restart test replaces it with a new one. */
  let askbase: RunningAskbase | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    dataDir = await mkdtemp(join(tmpdir(), 'askbase-test-pglite-'));
    env = { DATA_DIR: dataDir, OPENAI_BASE_URL: fake.baseUrl };
    askbase = await startAskbase(env);
  }, 120_000);
  afterAll(async () => {
    await askbase?.stop();
    await fake?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => fake.reset());

  function running(): RunningAskbase {
    if (!askbase) throw new Error('askbase is not running');
    return askbase;
  }

  async function appliedMigrations(): Promise<number> {
    // On PGlite, execute() resolves to a result with `rows`.
    const result = (await running().database.db.execute(
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    )) as { rows: { n: number }[] };
    return result.rows[0]?.n ?? -1;
  }

  it('when started without DATABASE_URL, then it uses PGlite under DATA_DIR with every migration applied', async () => {
    expect(running().database.driver).toBe('pglite');
    expect(running().database.poolStats()).toBeUndefined();
    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);
    expect(await appliedMigrations()).toBe(journal.entries.length);
    const response = await fetch(`${running().url}/health/ready`);
    expect(response.status).toBe(200);
  });

  it('when migrations are applied again, then nothing changes and nothing fails', async () => {
    await running().database.migrate();

    expect(await appliedMigrations()).toBe(journal.entries.length);
  });

  it('when the LLM answers, then the answer is returned, stored and read back', async () => {
    fake.setBehavior({ answer: () => 'Rome.' });

    const posted = await expectOk<QaJson>(
      await ask(running().url, { question: 'Capital of Italy? 🇮🇹 רומא 罗马' }),
    );
    const got = await expectOk<QaJson>(await fetch(`${running().url}/qa/${posted.id}`));

    expect(posted).toMatchObject({
      question: 'Capital of Italy? 🇮🇹 רומא 罗马',
      answer: 'Rome.',
      status: 'answered',
      error: null,
    });
    expect(posted.created_at).toMatch(ISO_UTC);
    expect(posted.answered_at).toMatch(ISO_UTC);
    expect(got).toEqual(posted);
  });

  it('when the LLM fails, then the question is stored as failed with the id in the error', async () => {
    fake.setBehavior({ fault: 'server_error' });

    const { error } = await expectError(
      await ask(running().url, { question: 'Is PGlite failing well?' }),
      503,
      'llm_unavailable',
    );

    const got = await expectOk<QaJson>(await fetch(`${running().url}/qa/${error.id}`));
    expect(got).toMatchObject({ status: 'failed', error: { code: 'llm_unavailable' } });
  });

  it('when several asks arrive at once, then all are answered and listed newest first', async () => {
    const questions = Array.from({ length: 10 }, (_, i) => `PGlite concurrent #${i}?`);

    const bodies = await Promise.all(
      questions.map(async (question) => expectOk<QaJson>(await ask(running().url, { question }))),
    );

    expect(bodies.every((body) => body.status === 'answered')).toBe(true);
    const listed = await expectOk<QaJson[]>(await fetch(`${running().url}/qas?limit=1000`));
    const ids = listed.map((qa) => qa.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    for (const body of bodies) expect(ids).toContain(body.id);
  });

  it('when the app stops and starts again on the same DATA_DIR, then the data is still there', async () => {
    const posted = await expectOk<QaJson>(
      await ask(running().url, { question: 'Will PGlite remember me?' }),
    );
    const current = running();
    askbase = undefined;
    await current.stop();

    askbase = await startAskbase(env);

    const got = await expectOk<QaJson>(await fetch(`${running().url}/qa/${posted.id}`));
    expect(got).toEqual(posted);
    expect(await appliedMigrations()).toBe(journal.entries.length);
    await expectOk(await ask(running().url, { question: 'And still answer?' }));
  });
});
