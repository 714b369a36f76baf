import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { InvalidJsonError } from '../errors.js';

/**
 * Bodies are JSON only: anything else, text/plain included, is 415 rather than a confusing
 * 400. They are read as bytes so that invalid UTF-8 is refused, not silently replaced with
 * U+FFFD and stored; then Fastify's own parser reads them (which also refuses __proto__ keys).
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(new InvalidJsonError('body is not valid UTF-8'), undefined);
    return parseJson(request, bytes.toString('utf8'), done);
  });
}
