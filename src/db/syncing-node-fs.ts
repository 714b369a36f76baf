import { fsyncSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type PostgresModOptions = Parameters<NodeFS['init']>[1];

/** The part of Emscripten's module that PGlite's Node file system is built on. */
interface EmscriptenNodeFs {
  NODEFS?: { stream_ops?: { fsync?: (stream: { nfd?: number }) => number } };
}

/**
 * PGlite's Node file system, made to sync. Emscripten's NODEFS, which PGlite mounts on the data
 * directory, has no fsync operation: every fsync PostgreSQL asks for returns at once having done
 * nothing (0.5.16, seen with strace: no fsync at all). This gives NODEFS the one it lacks, a real
 * fsync(2) on the file's descriptor, so PostgreSQL's own durability holds: the write-ahead log
 * synced at each commit (with `wal_sync_method=fsync`: PGlite's fdatasync is a no-op of its own),
 * data files at each checkpoint, directories when files are made.
 *
 * `syncs` counts them (a cell shared with the thread that reads askbase's metrics).
 */
export class SyncingNodeFS extends NodeFS {
  #installed = false;

  constructor(
    dataDir: string,
    private readonly syncs: Int32Array,
  ) {
    super(dataDir);
  }

  /** Whether PGlite's file system had the shape this expects; false: nothing is synced. */
  get installed(): boolean {
    return this.#installed;
  }

  override async init(pg: PGlite, options: PostgresModOptions) {
    const result = await super.init(pg, options);
    const preRun = [...(result.emscriptenOpts.preRun ?? [])];
    preRun.push((mod: EmscriptenNodeFs) => {
      const ops = mod.NODEFS?.stream_ops;
      // A PGlite whose NODEFS syncs already, or is built otherwise, is left as it is.
      if (!ops || ops.fsync) return;
      ops.fsync = (stream) => {
        if (stream.nfd !== undefined) fsyncSync(stream.nfd);
        Atomics.add(this.syncs, 0, 1);
        return 0;
      };
      this.#installed = true;
    });
    return { emscriptenOpts: { ...result.emscriptenOpts, preRun } };
  }
}

/**
 * Syncs every file and directory under `root`, and its own entry, to disk, several at a time,
 * counting each in `syncs`: a data directory just unpacked from the template (about a thousand
 * files, shut down cleanly, so PostgreSQL opens it without syncing anything) is on disk before
 * the first commit is said to be.
 */
export async function syncTree(root: string, syncs: Int32Array): Promise<void> {
  const files: string[] = [];
  const directories: string[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
    directories.push(directory);
  };
  walk(root);
  const sync = async (path: string) => {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
      Atomics.add(syncs, 0, 1);
    } finally {
      await handle.close();
    }
  };
  // Files first, then the directories that name them, deepest first.
  await Promise.all(files.map(sync));
  for (const directory of [...directories, dirname(root)]) await sync(directory);
}
