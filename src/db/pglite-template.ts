import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { MIGRATIONS_DIR, ROOT, TEMPLATE_DIR } from '../paths.js';

/**
 * A prepared PGlite data directory. Creating one from nothing runs initdb inside a second,
 * in-memory instance and unpacks a 40 MB tarball, with two WASM heaps alive at once: 6 to 19
 * seconds and 800 MB. Made once at build time (`npm run build`), gzipped (about 4.5 MB), and
 * unpacked into an empty DATA_DIR instead, it takes about a second and a third of the memory.
 * It belongs to one PGlite (and so PostgreSQL) version, recorded beside it; with any other,
 * askbase creates the directory the slow way.
 */

export const DATA_FILE = 'data.tar.gz';
export const META_FILE = 'meta.json';

/**
 * PGlite's start parameters for askbase. shared_buffers defaults to 128 MB and all of it ends
 * up resident; 16 MB keeps the embedded database small with no loss of throughput measured.
 */
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * The same, syncing: PGlite starts with fsync off (`-F`). On, PostgreSQL syncs the write-ahead
 * log at each commit with fsync, the one call SyncingNodeFS makes real (its fdatasync does
 * nothing).
 */
export const PGLITE_SYNCED_START_PARAMS = [
  ...PGLITE_START_PARAMS.filter((param) => param !== '-F'),
  '-c',
  'wal_sync_method=fsync',
];

export interface TemplateMeta {
  pgliteVersion: string;
  /** What the migrations were when it was made; a build remakes it when they change. */
  migrations: string;
}

/** A digest of every migration file (the SQL and drizzle's journal). */
export function migrationsDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(entry.name).update(readFileSync(path));
    }
  };
  walk(MIGRATIONS_DIR);
  return hash.digest('hex');
}

/** Whether the template was made for the installed PGlite and the current migrations. */
export async function isTemplateCurrent(directory: string = TEMPLATE_DIR): Promise<boolean> {
  try {
    const meta = JSON.parse(
      await readFile(join(directory, META_FILE), 'utf8'),
    ) as Partial<TemplateMeta>;
    return (
      meta.pgliteVersion === pgliteVersion() &&
      meta.migrations === migrationsDigest() &&
      existsSync(join(directory, DATA_FILE))
    );
  } catch {
    return false;
  }
}

/** The version of the installed PGlite package, from the node_modules Node resolves it in. */
export function pgliteVersion(): string {
  for (let dir = ROOT; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', '@electric-sql', 'pglite', 'package.json');
    if (existsSync(manifest)) {
      return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    }
    if (dirname(dir) === dir) throw new Error('@electric-sql/pglite is not installed');
  }
}

/** The prepared data directory (a gzipped tar), when one was made for the installed PGlite. */
export async function readTemplate(directory: string = TEMPLATE_DIR): Promise<Buffer | undefined> {
  const metaFile = join(directory, META_FILE);
  if (!existsSync(metaFile)) return undefined;
  try {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as Partial<TemplateMeta>;
    if (meta.pgliteVersion !== pgliteVersion()) return undefined;
    return await readFile(join(directory, DATA_FILE));
  } catch {
    return undefined;
  }
}

/**
 * Unpacks the prepared data directory into `dataDir`, for PGlite to open as an existing one.
 * PGlite could load the tarball itself (`loadDataDir`), but it writes each of its thousand
 * files through its WebAssembly file system: two opens, a chmod and a utime per file, which
 * made the first start twice as slow as unpacking here. PG_VERSION, what marks a directory as
 * a database, is written last, so an unpacking cut short is redone at the next start.
 */
export function unpackTemplate(gzippedTar: Buffer, dataDir: string): void {
  const tar = gunzipSync(gzippedTar);
  let marker: { path: string; body: Buffer; mode: number } | undefined;
  for (const entry of tarEntries(tar)) {
    const path = join(dataDir, entry.name);
    if (relative(dataDir, path).startsWith('..')) {
      throw new Error(`the embedded database template has an entry outside it: ${entry.name}`);
    }
    if (entry.type === 'directory') mkdirSync(path, { recursive: true, mode: entry.mode });
    else if (path === join(dataDir, 'PG_VERSION')) marker = { path, ...entry };
    else writeFileSync(path, entry.body, { mode: entry.mode });
  }
  if (!marker) throw new Error('the embedded database template has no PG_VERSION');
  writeFileSync(marker.path, marker.body, { mode: marker.mode });
}

/**
 * A data directory as a gzipped ustar archive, the shape unpackTemplate reads: its directories
 * and files, names relative to it.
 */
export function packDirectory(root: string): Buffer {
  const blocks: Buffer[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(directory, entry.name);
      const name = relative(root, path);
      // PostgreSQL's own modes (owner only), whatever the umask the template was made under.
      if (entry.isDirectory()) {
        blocks.push(tarHeader(name, '5', 0o700, 0));
        walk(path);
      } else if (entry.isFile()) {
        const body = readFileSync(path);
        blocks.push(tarHeader(name, '0', 0o600, body.length), body);
        blocks.push(Buffer.alloc((512 - (body.length % 512)) % 512));
      }
    }
  };
  walk(root);
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return gzipSync(Buffer.concat(blocks));
}

function tarHeader(name: string, type: '0' | '5', mode: number, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`a template path is too long: ${name}`);
  const header = Buffer.alloc(512);
  const octal = (value: number, offset: number, length: number) =>
    header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
  header.write(name, 0, 100, 'utf8');
  octal(mode & 0o777, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(0, 136, 12); // mtime
  header.write(type, 156, 1, 'latin1');
  header.write('ustar\0' + '00', 257, 8, 'latin1');
  // The checksum is taken with its own field as spaces.
  header.fill(' ', 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return header;
}

interface TarEntry {
  name: string;
  type: 'file' | 'directory';
  mode: number;
  body: Buffer;
}

/** The entries of a ustar archive as packDirectory writes it: files and directories. */
function* tarEntries(tar: Buffer): Generator<TarEntry> {
  const field = (header: Buffer, offset: number, length: number) => {
    const bytes = header.subarray(offset, offset + length);
    const end = bytes.indexOf(0);
    return bytes.subarray(0, end === -1 ? length : end).toString('utf8');
  };
  const octal = (header: Buffer, offset: number, length: number) =>
    Number.parseInt(field(header, offset, length).trim() || '0', 8);
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    // Two zero blocks end the archive.
    if (header.every((byte) => byte === 0)) return;
    const prefix = field(header, 345, 155);
    const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const size = octal(header, 124, 12);
    const typeFlag = String.fromCharCode(header[156] ?? 0);
    const type =
      typeFlag === '5' ? 'directory' : typeFlag === '0' || typeFlag === '\0' ? 'file' : undefined;
    if (!type)
      throw new Error(`the embedded database template has an entry of type ${typeFlag}: ${name}`);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    yield { name, type, mode: octal(header, 100, 8) & 0o777, body };
    offset += 512 + Math.ceil(size / 512) * 512;
  }
}
