/**
 * The embedded database's own thread. PGlite is PostgreSQL compiled to WebAssembly: every query
 * runs synchronously on the thread that owns it. On askbase's main thread that starved the event
 * loop under load (health checks, streams and timers waited seconds), so PGlite lives here and
 * askbase reaches it with the same `pg` driver it uses for PostgreSQL: each connection is a
 * MessagePort carrying the wire protocol, which PGlite speaks itself.
 *
 * PGlite is one session, so messages from every connection run one at a time, in order. askbase
 * opens one connection (a pool of one), which keeps a transaction's statements together.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type MessagePort, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import {
  PGLITE_START_PARAMS,
  PGLITE_SYNCED_START_PARAMS,
  readTemplate,
  unpackTemplate,
} from './pglite-template.js';
import { SyncingNodeFS, syncTree } from './syncing-node-fs.js';

export interface PgliteWorkerData {
  dataDir: string;
  templateDir?: string;
  /** Sync every commit to disk (EMBEDDED_FSYNC); else PGlite's own default, nothing synced. */
  fsync: boolean;
  /** One Int32 cell: how many fsyncs PostgreSQL has made, read by the starting thread. */
  syncCount: SharedArrayBuffer;
}

/** What the worker tells the thread that started it. */
export type PgliteWorkerEvent =
  | { type: 'creating'; prepared: boolean }
  /** `synced`: every commit is synced to disk (false when asked not to, or when it cannot be). */
  | { type: 'ready'; synced: boolean }
  | { type: 'failed'; message: string };

/** What the starting thread tells the worker. */
export type PgliteWorkerCommand =
  /** Open PGlite: sent once no earlier thread can still be writing to the directory. */
  { type: 'open' } | { type: 'connect'; port: MessagePort } | { type: 'close' };

// A protocol message is a type byte and a length that counts itself; the startup message has
// no type byte, and an SSL request is a startup-shaped message with this code.
const SSL_REQUEST_CODE = 80_877_103;
const ROLLBACK = simpleQuery('rollback');

function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, 'utf8');
  const message = Buffer.alloc(5 + body.length);
  message.write('Q', 0, 'latin1');
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

/** How many bytes at the start of `buffer` are whole protocol messages (typed ones). */
function wholeMessages(buffer: Buffer): number {
  let offset = 0;
  while (offset + 5 <= buffer.length) {
    const end = offset + 1 + buffer.readInt32BE(offset + 1);
    if (end > buffer.length) break;
    offset = end;
  }
  return offset;
}

async function run(parent: MessagePort, data: PgliteWorkerData): Promise<void> {
  const tell = (event: PgliteWorkerEvent) => parent.postMessage(event);
  // Connections may arrive before PGlite is open; they wait here until it is.
  let allowOpen: () => void = () => undefined;
  const openAllowed = new Promise<void>((resolve) => (allowOpen = resolve));
  const early: PgliteWorkerCommand[] = [];
  const state: { handle?: (command: PgliteWorkerCommand) => void } = {};
  parent.on('message', (command: PgliteWorkerCommand) => {
    if (command.type === 'open') allowOpen();
    else if (state.handle) state.handle(command);
    else early.push(command);
  });

  await openAllowed;
  let db: PGlite;
  let synced = false;
  try {
    if (!existsSync(join(data.dataDir, 'PG_VERSION'))) {
      const template = await readTemplate(data.templateDir);
      tell({ type: 'creating', prepared: template !== undefined });
      if (template) {
        unpackTemplate(template, data.dataDir);
        // Written through the page cache: on disk before the first commit is said to be.
        if (data.fsync) await syncTree(data.dataDir, new Int32Array(data.syncCount));
      }
    }
    if (data.fsync) {
      const fs = new SyncingNodeFS(data.dataDir, new Int32Array(data.syncCount));
      db = await PGlite.create({ fs, startParams: PGLITE_SYNCED_START_PARAMS });
      synced = fs.installed;
    } else {
      db = await PGlite.create(data.dataDir, { startParams: PGLITE_START_PARAMS });
    }
  } catch (error) {
    tell({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    parent.close();
    return;
  }

  // Every message of every connection, one batch at a time. A connection that is gone has its
  // waiting messages dropped.
  let queue = Promise.resolve();
  let transactionOf: object | undefined;
  const execute = async (connection: object, messages: Uint8Array): Promise<Uint8Array> => {
    // A connection must not run inside another's transaction: one left open by a client that
    // went without committing (PGlite is one session, so only the next statement can see it).
    if (transactionOf !== undefined && transactionOf !== connection) {
      await db.execProtocolRaw(ROLLBACK);
    }
    const response = await db.execProtocolRaw(messages);
    transactionOf = db.isInTransaction() ? connection : undefined;
    return response;
  };

  const attach = (client: MessagePort) => {
    const connection = {};
    let pending = Buffer.alloc(0);
    let started = false;
    let open = true;
    const send = (messages: Uint8Array) => {
      queue = queue.then(async () => {
        if (!open) return;
        // A new array of its own (PGlite copies out of its heap), so it can be moved.
        const response = await execute(connection, messages);
        if (open && response.length > 0)
          client.postMessage(response, [response.buffer as ArrayBuffer]);
      });
    };
    client.on('message', (chunk: Uint8Array) => {
      pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
      if (!started) {
        // The startup message (or an SSL request before it): a length, then a code.
        if (pending.length < 8 || pending.length < pending.readInt32BE(0)) return;
        const length = pending.readInt32BE(0);
        const code = pending.readInt32BE(4);
        const message = new Uint8Array(pending.subarray(0, length));
        pending = pending.subarray(length);
        if (code === SSL_REQUEST_CODE) {
          client.postMessage(Buffer.from('N')); // no TLS between two threads
          return;
        }
        started = true;
        send(message);
      }
      const whole = wholeMessages(pending);
      if (whole === 0) return;
      send(new Uint8Array(pending.subarray(0, whole)));
      pending = pending.subarray(whole);
    });
    // A transaction it left open is rolled back by the next statement of another (execute).
    client.once('close', () => (open = false));
  };

  const handle = (command: PgliteWorkerCommand) => {
    if (command.type === 'connect') attach(command.port);
    else if (command.type === 'close') {
      queue = queue.then(async () => {
        await db.close();
        // Ends this thread only. Waiting for its event loop to empty took 0.1-0.3 s more.
        process.exit(0);
      });
    }
  };
  state.handle = handle;
  for (const command of early.splice(0)) handle(command);
  tell({ type: 'ready', synced });
}

if (!isMainThread && parentPort) await run(parentPort, workerData as PgliteWorkerData);
