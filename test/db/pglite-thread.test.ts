import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConnectionError } from '../../src/db/database.js';
import { type PgliteThread, startPgliteThread } from '../../src/db/pglite-thread.js';

const logger = pino({ level: 'silent' });

/** A startup message with no user: PostgreSQL answers it with FATAL, which ends PGlite. */
function startupWithoutUser(): Buffer {
  const body = Buffer.from('user\0\0database\0postgres\0\0', 'utf8');
  const message = Buffer.alloc(8 + body.length);
  message.writeInt32BE(message.length, 0);
  message.writeInt32BE(196_608, 4);
  body.copy(message, 8);
  return message;
}

// One thread on one directory for the file: each test leaves it running.
describe('the embedded database on its own thread', { timeout: 120_000 }, () => {
  let dataDir: string;
  let thread: PgliteThread;
  let pool: pg.Pool;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'askbase-test-thread-'));
    thread = startPgliteThread({ dataDir, logger, fsync: true });
    pool = new pg.Pool({
      max: 1,
      stream: () => thread.connect(),
      user: 'postgres',
      database: 'postgres',
    });
    // An idle connection lost with the thread is dropped by the pool, as askbase's is.
    pool.on('error', () => undefined);
    await thread.ready();
    await pool.query('create table kept (note text not null)');
  });
  afterAll(async () => {
    await pool?.end();
    await thread?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('when a row is committed, then PostgreSQL has synced its log to disk before the commit returns', async () => {
    await pool.query('create table if not exists synced (note text not null)');
    const before = thread.syncs();
    await pool.query("insert into synced (note) values ('on disk')");

    expect(thread.synced()).toBe(true);
    expect(thread.syncs()).toBeGreaterThan(before);
  });

  it('when a query runs in PGlite, then the main thread’s event loop keeps turning meanwhile', async () => {
    let turns = 0;
    let running = true;
    const spin = () => {
      turns += 1;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    // Tens of milliseconds of WebAssembly at the least, thousands of turns of an idle loop.
    await pool.query('select count(*) from generate_series(1, 500000)');
    running = false;

    // On the main thread PGlite ran synchronously: the loop did not turn until it was done.
    expect(turns).toBeGreaterThan(100);
  });

  it('when the thread dies mid-transaction, then its connection ends as a lost server’s does, the next query starts it again, and only committed rows are there', async () => {
    await pool.query(`insert into kept values ('committed')`);
    const client = await pool.connect();
    await client.query('begin');
    await client.query(`insert into kept values ('never committed')`);
    const startsBefore = thread.starts();

    const lost = new Promise<Error>((resolve) => client.once('error', resolve));
    // Another connection makes PostgreSQL exit: FATAL ends the whole single-user PGlite.
    const crash = thread.connect();
    crash.on('error', () => undefined);
    crash.write(startupWithoutUser());
    const error = await lost;
    client.release(error);

    expect(isConnectionError(error)).toBe(true);
    const { rows } = await pool.query<{ note: string }>('select note from kept order by note');
    expect(rows).toEqual([{ note: 'committed' }]);
    expect(thread.starts()).toBe(startsBefore + 1);
  });

  it('when a client leaves a transaction open and goes, then the next connection does not run inside it', async () => {
    const client = await pool.connect();
    await client.query('begin');
    await client.query(`insert into kept values ('abandoned')`);
    // Gone without commit or rollback, as a client whose process ended.
    client.release(new Error('gone'));

    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from kept where note = 'abandoned'`,
    );
    // Inside the abandoned transaction, its row would be seen.
    expect(rows).toEqual([{ n: 0 }]);
  });
});
