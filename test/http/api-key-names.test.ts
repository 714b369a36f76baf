import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ask } from '../helpers/askbase.js';
import { type QaJson, expectOk } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { BOTH_DATABASES } from '../helpers/each-database.js';

const KEYS = { alice: 'alice-secret-1', bob: 'bob-secret-2', bare: 'bare-secret-3' };
const API_KEYS = `alice:${KEYS.alice},bob:${KEYS.bob},${KEYS.bare}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe.each(BOTH_DATABASES)('API key names on $driver', { timeout: 120_000 }, ({ database }) => {
  const suite = useAskbaseSuite({ database, env: { API_KEYS } });

  const askAs = async (key: string, question: string) =>
    expectOk<QaJson>(await ask(suite.askbase.url, { question }, bearer(key)));
  const list = async (query: string) =>
    fetch(`${suite.askbase.url}/qas?${query}`, { headers: bearer(KEYS.alice) });

  it('when each key asks, then each question stores the name of its key (a bare key is named by its position), never the key', async () => {
    const word = `names${Date.now().toString(36)}`;
    const byAlice = await askAs(KEYS.alice, `${word} from alice`);
    const byBob = await askAs(KEYS.bob, `${word} from bob`);
    const byBare = await askAs(KEYS.bare, `${word} from the bare key`);

    expect([byAlice.key_name, byBob.key_name, byBare.key_name]).toEqual(['alice', 'bob', 'key3']);
    const read = await expectOk<QaJson>(
      await fetch(`${suite.askbase.url}/qa/${byBob.id}`, { headers: bearer(KEYS.alice) }),
    );
    expect(read.key_name).toBe('bob');
    const rows = await suite.askbase.database.db.execute(
      sql`select row_to_json(question_answers)::text as row from question_answers`,
    );
    const stored = JSON.stringify((rows as { rows: unknown[] }).rows);
    for (const secret of Object.values(KEYS)) expect(stored).not.toContain(secret);
  });

  it('when GET /qas and the export filter by key, then only that key’s questions come back, and the next page keeps the filter', async () => {
    const word = `filter${Date.now().toString(36)}`;
    for (const n of [1, 2, 3]) await askAs(KEYS.alice, `${word} alice ${n}`);
    await askAs(KEYS.bob, `${word} bob`);

    const first = await list(`q=${word}&key=alice&limit=2`);
    const page = await expectOk<QaJson[]>(first);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
    const rest = await expectOk<QaJson[]>(
      await fetch(`${suite.askbase.url}${next}`, { headers: bearer(KEYS.alice) }),
    );
    const exported = await (
      await fetch(`${suite.askbase.url}/qas/export?q=${word}&key=bob`, {
        headers: bearer(KEYS.bob),
      })
    ).text();
    const nobody = await expectOk<QaJson[]>(await list(`q=${word}&key=carol`));

    expect(next).toContain('key=alice');
    expect([...page, ...rest].map((qa) => qa.question)).toEqual([
      `${word} alice 3`,
      `${word} alice 2`,
      `${word} alice 1`,
    ]);
    expect(
      exported
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as QaJson).key_name),
    ).toEqual(['bob']);
    expect(nobody).toEqual([]);
  });
});

describe('API key names without API_KEYS', () => {
  const suite = useAskbaseSuite();

  it('when askbase runs without keys, then key_name is null', async () => {
    const qa = await expectOk<QaJson>(await ask(suite.askbase.url, { question: 'Anyone?' }));
    expect(qa.key_name).toBeNull();
  });
});

describe('API_KEYS entries', () => {
  it('when entries are name:key or bare, then each key gets its name or its position', () => {
    expect(loadConfig({ API_KEYS: 'ci:abc:def, xyz ,ops.team-1:k' }).security.apiKeys).toEqual([
      { name: 'ci', key: 'abc:def' },
      { name: 'key2', key: 'xyz' },
      { name: 'ops.team-1', key: 'k' },
    ]);
  });

  it('when two keys share a name, then a ConfigError says so without showing any key', () => {
    expect(() => loadConfig({ API_KEYS: 'a:first-secret,a:second-secret' })).toThrow(ConfigError);
    try {
      loadConfig({ API_KEYS: 'a:first-secret,a:second-secret' });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('secret');
    }
  });
});
