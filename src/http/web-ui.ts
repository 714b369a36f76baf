import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../errors.js';

export interface WebUiOptions {
  /** A directory holding index.html and assets/ with content-hashed file names. */
  dir: string;
}

/**
 * The page runs only its own files: no inline script or style, no other origin, nothing to
 * frame it. Stricter than the API's default policy, which Swagger UI at /docs needs.
 */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

interface StaticFile {
  type: string;
  body: Buffer;
  gzipped: Buffer | undefined;
  etag: string;
}

/**
 * Serves the web page at `/` and its assets at `/assets/…` from memory: the files are small and
 * fixed for the life of the process. Assets are named by their content hash, so browsers keep
 * them for a year without asking; the HTML is revalidated on every visit (ETag), so a new build
 * is seen at once. Text is gzipped once, at start.
 */
export const webUi: FastifyPluginAsync<WebUiOptions> = async (app, { dir }) => {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    app.log.warn({ dir }, 'web page not built, so / is not served (run `npm run build`)');
    return;
  }
  const page = load(index);
  const assets = new Map<string, StaticFile>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) assets.set(name, load(join(assetDir, name)));
  }

  app.get('/', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', PAGE_POLICY)
      .header('referrer-policy', 'no-referrer');
    return send(request, reply, page);
  });
  app.get<{ Params: { file: string } }>(
    '/assets/:file',
    { config: { public: true }, schema: { hide: true } },
    async (request, reply) => {
      const file = assets.get(request.params.file);
      if (!file) throw new NotFoundError(`no asset ${request.params.file}`);
      reply.header('cache-control', 'public, max-age=31536000, immutable');
      return send(request, reply, file);
    },
  );
};

function load(path: string): StaticFile {
  const body = readFileSync(path);
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const compressible = type.startsWith('text/') || type.startsWith('application/json');
  return {
    type,
    body,
    gzipped: compressible && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile) {
  reply.header('etag', file.etag).header('vary', 'accept-encoding').type(file.type);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  if (file.gzipped && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
    return reply.header('content-encoding', 'gzip').send(file.gzipped);
  }
  return reply.send(file.body);
}
