import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { readTemplate, unpackTemplate } from '../../src/db/pglite-template.js';
import { TEMPLATE_DIR } from '../../src/paths.js';
import { rowsOf } from '../../src/repository/statements.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../helpers/database.js';
import { useAskbaseSuite } from '../helpers/suite.js';

const logger = createLogger('silent');

// Real processes and the embedded database start slowly on a loaded machine: the bound
// only guards against a hang.
describe('the first run: the prepared embedded database', { timeout: 120_000 }, () => {
  let root: string;
  // The template the test setup made (as `npm run build` does), shared with every PGlite test.
  const templateDir = TEMPLATE_DIR;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'askbase-test-template-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Whether the data directory holds askbase's migrations before migrate() has run. */
  async function openAndInspect(dataDir: string, template: string) {
    const database = await openDatabase({ dataDir, logger, templateDir: template });
    const rows = <T>(query: SQL) => rowsOf<T>(database, query);
    try {
      const [row] = await rows<{ migrated: boolean }>(
        sql`select to_regclass('drizzle.__drizzle_migrations') is not null as migrated`,
      );
      await database.migrate();
      await database.db.execute(sql`insert into question_answers (question) values ('Kept?')`);
      const [count] = await rows<{ n: number }>(
        sql`select count(*)::int as n from question_answers`,
      );
      return { fromTemplate: row?.migrated === true, rows: count?.n };
    } finally {
      await database.close();
    }
  }

  it('when DATA_DIR is empty and a template exists for this PGlite, then the database starts from it, already migrated', async () => {
    const result = await openAndInspect(join(root, 'fresh'), templateDir);
    expect(result).toEqual({ fromTemplate: true, rows: 1 });
  });

  it('when DATA_DIR is made from the template, then every file of it is synced to disk before the database is ready', async () => {
    const dataDir = join(root, 'synced');
    const database = await openDatabase({ dataDir, logger, templateDir });
    try {
      await database.migrate();
      const files = (await readdir(dataDir, { recursive: true, withFileTypes: true })).filter(
        (entry) => entry.isFile(),
      );
      expect(database.fileSyncs()).toBeGreaterThanOrEqual(files.length);
    } finally {
      await database.close();
    }
  });

  it('when DATA_DIR already holds a database, then it is opened as it is and the template is not applied over it', async () => {
    const dataDir = join(root, 'existing');
    await openAndInspect(dataDir, templateDir);

    expect(await openAndInspect(dataDir, templateDir)).toEqual({ fromTemplate: true, rows: 2 });
  });

  it('when unpacking the template was cut short, then the next start unpacks it again and the database opens', async () => {
    const dataDir = join(root, 'cut-short');
    const template = await readTemplate(templateDir);
    if (!template) throw new Error('no template');
    unpackTemplate(template, dataDir);
    // What a kill mid-unpack leaves: PG_VERSION (written last) missing, a file half-written.
    await rm(join(dataDir, 'PG_VERSION'));
    await writeFile(join(dataDir, 'global', 'pg_control'), 'half');

    expect(await openAndInspect(dataDir, templateDir)).toEqual({ fromTemplate: true, rows: 1 });
  });

  it('when the template was made for another PGlite version, then it is ignored and the database is created with initdb', async () => {
    const stale = join(root, 'stale-template');
    await cp(templateDir, stale, { recursive: true });
    await writeFile(join(stale, 'meta.json'), '{"pgliteVersion":"0.0.1"}\n');
    expect(await readTemplate(stale)).toBeUndefined();

    expect(await openAndInspect(join(root, 'fallback'), stale)).toEqual({
      fromTemplate: false,
      rows: 1,
    });
  }, 120_000);
});

// Real processes and the embedded database start slowly on a loaded machine: the bound
// only guards against a hang.
describe('the first run: what a person sees at start', { timeout: 120_000 }, () => {
  // Each process keeps its data below its own working directory unless the test names one.
  const suite = useAskbaseSuite({ database: 'none', askbase: false });

  it('when the port is already in use, then askbase exits 1 with one line saying so, before it opens the embedded database', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const askbase = await suite.spawn({ PORT: String(port) }, { waitUntilReady: false });

      expect(await askbase.exited).toBe(1);
      const lines = askbase.output().trim().split('\n');
      expect(lines).toEqual([
        `askbase: port ${port} on 127.0.0.1 is already in use; stop what listens there, or set PORT`,
      ]);
      expect(existsSync(join(askbase.cwd, 'data', 'pglite'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('when askbase starts on the embedded database, then its one line says each commit is synced to disk, and an answer is', async () => {
    const askbase = await suite.spawn();

    expect(startupLine(askbase.output())).toContain(
      `embedded PGlite in ${join(askbase.cwd, 'data', 'pglite')} (each commit synced to disk)`,
    );
    const before = await embeddedFsyncs(askbase.url);
    await askOnce(askbase.url);
    // The pending row's commit and the answer's: the write-ahead log synced for each.
    expect(await embeddedFsyncs(askbase.url)).toBeGreaterThanOrEqual(before + 2);
  });

  it('when EMBEDDED_FSYNC=false, then its one line says a power loss may lose recent answers, and nothing is synced', async () => {
    const askbase = await suite.spawn({ EMBEDDED_FSYNC: 'false' });

    expect(startupLine(askbase.output())).toContain(
      `embedded PGlite in ${join(askbase.cwd, 'data', 'pglite')} (EMBEDDED_FSYNC=false: not synced to disk, a power loss may lose recent answers)`,
    );
    await askOnce(askbase.url);
    expect(await embeddedFsyncs(askbase.url)).toBe(0);
  });

  it('when askbase starts, then one line says where it listens, which database and LLM it uses, and where the docs are, with no password', async () => {
    const db = await createTestDatabase({ empty: true });
    try {
      const askbase = await suite.spawn({ DATABASE_URL: db.url, OPENAI_MODEL: 'test-model' });
      const password = new URL(db.url).password;
      const { hostname, port, pathname } = new URL(db.url);

      const line = askbase
        .output()
        .split('\n')
        .find((text) => text.includes('askbase listening on'));
      const msg = (JSON.parse(line ?? '{}') as { msg?: string }).msg;
      expect(msg).toBe(
        `askbase listening on ${askbase.url}; database: PostgreSQL at ${hostname}:${port}${pathname}; ` +
          `LLM: ${suite.fake.baseUrl}, model test-model; API docs: ${askbase.url}/docs`,
      );
      expect(askbase.output()).not.toContain(password);

      // What ships is bundled: the docs, their assets and the page are found beside it.
      const page = await fetch(`${askbase.url}/docs`);
      expect(page.status).toBe(200);
      const asset = /src="(\/docs\/static\/[^"]+\.js)"/.exec(await page.text())?.[1];
      expect(asset).toBeDefined();
      expect((await fetch(`${askbase.url}${asset ?? ''}`)).status).toBe(200);
      const document = (await (await fetch(`${askbase.url}/docs/json`)).json()) as {
        info: { version: string };
      };
      expect(document.info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect((await fetch(`${askbase.url}/`)).status).toBe(200);
    } finally {
      await db.drop();
    }
  });
});

function startupLine(output: string): string | undefined {
  const line = output.split('\n').find((text) => text.includes('askbase listening on'));
  return (JSON.parse(line ?? '{}') as { msg?: string }).msg;
}

async function askOnce(url: string): Promise<void> {
  const response = await fetch(`${url}/ask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ question: 'Is it on disk?' }),
  });
  expect(response.status).toBe(200);
}

/** askbase_embedded_fsyncs_total from /metrics. */
async function embeddedFsyncs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^askbase_embedded_fsyncs_total (\d+)$/m.exec(text);
  if (!match?.[1]) throw new Error('no askbase_embedded_fsyncs_total in /metrics');
  return Number(match[1]);
}
