import { Duplex } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { ROOT } from '../paths.js';
import type { PgliteWorkerCommand, PgliteWorkerData, PgliteWorkerEvent } from './pglite-worker.js';

/**
 * The embedded database's thread (pglite-worker.ts), as `pg` sees it: `connect()` returns a
 * stream that speaks the PostgreSQL wire protocol, like a socket to a server would. When the
 * thread dies, its connections end as a lost server's would ("Connection terminated"), and
 * the next connection starts it again on the same directory, as PostgreSQL recovers after a
 * crash: from its write-ahead log.
 */
export interface PgliteThread {
  /** A new connection, for `pg`'s `stream` option. */
  connect(): Duplex;
  /** Resolves once PGlite is open; rejects with its reason when it cannot be. */
  ready(): Promise<void>;
  /** How many times the thread has been started (1 until it dies). */
  starts(): number;
  /** Whether commits are synced to disk: known once ready; false until then. */
  synced(): boolean;
  /** How many fsyncs PostgreSQL has made, over every start. */
  syncs(): number;
  /** Stops the thread; PGlite closes its files first. */
  close(): Promise<void>;
}

interface Running {
  worker: Worker;
  ready: Promise<void>;
  exited: Promise<void>;
}

export function startPgliteThread(
  options: Omit<PgliteWorkerData, 'syncCount'> & { logger: Logger },
): PgliteThread {
  const { logger, ...rest } = options;
  const data: PgliteWorkerData = { ...rest, syncCount: new SharedArrayBuffer(4) };
  const syncCount = new Int32Array(data.syncCount);
  let synced = false;
  let running: Running | undefined;
  /** A thread found dead whose exit is not yet complete: the next one opens after it. */
  let dying: Promise<void> | undefined;
  let starts = 0;
  let closing = false;

  const start = (): Running => {
    starts += 1;
    const worker = spawnWorker(data);
    const previous = dying;
    dying = undefined;
    void (previous ?? Promise.resolve()).then(() => {
      const open: PgliteWorkerCommand = { type: 'open' };
      worker.postMessage(open);
    });
    let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // A failure to start is reported through ready(); nobody need be waiting on it.
    ready.catch(() => undefined);
    worker.on('message', (event: PgliteWorkerEvent) => {
      if (event.type === 'creating') {
        logger.info(
          { dataDir: data.dataDir, prepared: event.prepared },
          event.prepared
            ? 'creating the embedded database from the prepared template'
            : 'creating the embedded database with initdb (no template for this PGlite version)',
        );
      } else if (event.type === 'ready') {
        synced = event.synced;
        if (data.fsync && !synced) {
          logger.warn(
            { dataDir: data.dataDir },
            'this PGlite cannot sync its files: a power loss may lose the last answers',
          );
        }
        settle?.resolve();
      } else if (event.type === 'failed') settle?.reject(new Error(event.message));
    });
    let failure: Error | undefined;
    worker.once('error', (error) => (failure = error));
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        settle?.reject(failure ?? new Error('the embedded database stopped'));
        if (running?.worker === worker) running = undefined;
        if (!closing && (failure || code !== 0)) {
          logger.error(
            { err: failure, exitCode: code },
            'the embedded database stopped unexpectedly; it starts again at the next query',
          );
        }
        resolve();
      });
    });
    return { worker, ready, exited };
  };

  const current = () => (running ??= start());
  // A connection's port closed by the thread's side means the thread died (it never closes
  // one itself). Its exit may not have been reported yet; the next connection must not reach it.
  const lost = (worker: Worker) => {
    if (running?.worker !== worker) return;
    dying = running.exited;
    running = undefined;
    void worker.terminate();
  };
  // Started now, not at the first connection: PGlite's start overlaps askbase building its app.
  current();

  return {
    connect() {
      const { port1, port2 } = new MessageChannel();
      const command: PgliteWorkerCommand = { type: 'connect', port: port2 };
      const { worker } = current();
      worker.postMessage(command, [port2]);
      return new PortStream(port1, () => lost(worker));
    },
    ready: () => current().ready,
    starts: () => starts,
    synced: () => synced,
    syncs: () => Atomics.load(syncCount, 0),
    async close() {
      closing = true;
      const thread = running;
      if (!thread) return;
      const command: PgliteWorkerCommand = { type: 'close' };
      thread.worker.postMessage(command);
      await thread.exited;
    },
  };
}

const BUILT_WORKER = join(ROOT, 'dist', 'db', 'pglite-worker.js');
// What the built worker is made from; it is current when newer than each of them.
const WORKER_SOURCES = ['db/pglite-worker.ts', 'db/pglite-template.ts', 'paths.ts'];

function spawnWorker(workerData: PgliteWorkerData): Worker {
  // PGlite's WebAssembly on V8's baseline compiler only. By default V8 also recompiles hot
  // functions with its optimising compiler, and PostgreSQL has many: on 2 cores that cost more
  // CPU than it saved, and 50 MiB. Measured (BENCHMARKS.md): an existing directory ready in
  // 1.2-1.5 s instead of 1.6-1.8 s, at 182 MiB idle instead of 232-250, asks per second the
  // same; a long scan runs about 1.8 times slower, which is what PostgreSQL is for. V8 flags
  // are per process and this one only touches WebAssembly compiled from now on, so it is set
  // only when the embedded database is used.
  setFlagsFromString('--liftoff-only');
  const options = { workerData };
  if (!import.meta.url.endsWith('.ts') || isBuiltWorkerCurrent()) {
    return new Worker(pathToFileURL(BUILT_WORKER), options);
  }
  // From source, with the worker changed since the last build (`npm run dev`): its TypeScript
  // loads through tsx, as its parent's does. That costs about 0.6 s a start, which the tests,
  // whose setup builds first, do not pay.
  const source = new URL('./pglite-worker.ts', import.meta.url).href;
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`,
    { ...options, eval: true },
  );
}

function isBuiltWorkerCurrent(): boolean {
  try {
    const built = statSync(BUILT_WORKER).mtimeMs;
    return WORKER_SOURCES.every((source) => statSync(join(ROOT, 'src', source)).mtimeMs <= built);
  } catch {
    return false;
  }
}

/** One connection's end of a MessagePort, shaped as the socket `pg` expects. */
class PortStream extends Duplex {
  private closedHere = false;

  constructor(
    private readonly port: MessagePort,
    onLost: () => void,
  ) {
    super();
    port.on('message', (chunk: Uint8Array) => {
      this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    port.once('close', () => {
      if (this.closedHere) return;
      // Closed from the other end: the thread is gone. Ended as a socket to a lost server is.
      onLost();
      this.push(null);
      this.destroy();
    });
  }

  // What pg calls on a net.Socket.
  connect(): this {
    process.nextTick(() => this.emit('connect'));
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    this.port.ref();
    return this;
  }
  unref(): this {
    this.port.unref();
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this._writev([{ chunk }], callback);
  }

  // pg corks the messages of one query (parse, bind, execute, sync): they go as one. Copied
  // into an array of their own (a chunk may be a view into a larger pooled buffer), then moved.
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const bytes = new Uint8Array(Buffer.concat(chunks.map(({ chunk }) => chunk)));
    this.port.postMessage(bytes, [bytes.buffer]);
    callback();
  }

  override _final(callback: () => void): void {
    this.closedHere = true;
    this.port.close();
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.closedHere = true;
    this.port.close();
    callback(error);
  }
}
