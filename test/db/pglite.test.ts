import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { ISO_UTC, type QaJson, expectError, expectOk } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';

const journal = JSON.parse(
  readFileSync(new URL('../../drizzle/meta/_journal.json', import.meta.url), 'utf8'),
) as { entries: { tag: string }[] };

// PGlite's first open of a new data directory takes seconds (WASM + initdb), so this file opens
// one directory once and reopens it once, in the restart test.
describe('the embedded PGlite database (no DATABASE_URL)', { timeout: 60_000 }, () => {
  // The restart test stops the suite's askbase and starts it again on the same directory.
  const suite = useAskbaseSuite({ database: 'embedded' });

  async function appliedMigrations(): Promise<number> {
    // On PGlite, execute() resolves to a result with `rows`.
    const result = (await suite.askbase.database.db.execute(
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    )) as { rows: { n: number }[] };
    return result.rows[0]?.n ?? -1;
  }

  it('when started without DATABASE_URL, then it uses PGlite under DATA_DIR with every migration applied', async () => {
    expect(suite.askbase.database.driver).toBe('pglite');
    expect(suite.askbase.database.poolStats()).toBeUndefined();
    expect(existsSync(join(suite.askbase.config.dataDir, 'pglite'))).toBe(true);
    expect(await appliedMigrations()).toBe(journal.entries.length);
    const response = await fetch(`${suite.askbase.url}/health/ready`);
    expect(response.status).toBe(200);
  });

  it('when migrations are applied again, then nothing changes and nothing fails', async () => {
    await suite.askbase.database.migrate();

    expect(await appliedMigrations()).toBe(journal.entries.length);
  });

  it('when the LLM answers, then the answer is returned, stored and read back', async () => {
    suite.fake.setBehavior({ answer: () => 'Rome.' });

    const posted = await expectOk<QaJson>(
      await ask(suite.askbase.url, { question: 'Capital of Italy? 🇮🇹 רומא 罗马' }),
    );
    const got = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${posted.id}`));

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
    suite.fake.setBehavior({ fault: 'server_error' });

    const { error } = await expectError(
      await ask(suite.askbase.url, { question: 'Is PGlite failing well?' }),
      503,
      'llm_unavailable',
    );

    const got = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${error.id}`));
    expect(got).toMatchObject({ status: 'failed', error: { code: 'llm_unavailable' } });
  });

  it('when several asks arrive at once, then all are answered and listed newest first', async () => {
    const questions = Array.from({ length: 10 }, (_, i) => `PGlite concurrent #${i}?`);

    const bodies = await Promise.all(
      questions.map(async (question) =>
        expectOk<QaJson>(await ask(suite.askbase.url, { question })),
      ),
    );

    expect(bodies.every((body) => body.status === 'answered')).toBe(true);
    const listed = await expectOk<QaJson[]>(await fetch(`${suite.askbase.url}/qas?limit=1000`));
    const ids = listed.map((qa) => qa.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    for (const body of bodies) expect(ids).toContain(body.id);
  });

  it('when the app stops and starts again on the same DATA_DIR, then the data is still there', async () => {
    const posted = await expectOk<QaJson>(
      await ask(suite.askbase.url, { question: 'Will PGlite remember me?' }),
    );
    await suite.restart();

    const got = await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${posted.id}`));
    expect(got).toEqual(posted);
    expect(await appliedMigrations()).toBe(journal.entries.length);
    await expectOk(await ask(suite.askbase.url, { question: 'And still answer?' }));
  });
});
