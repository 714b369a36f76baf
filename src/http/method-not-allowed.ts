import type { FastifyInstance, HTTPMethods } from 'fastify';
import { MethodNotAllowedError } from '../errors.js';
import { errorRef } from './schemas.js';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Answers every other method on `url` with 405 and an Allow header, instead of a 404.
 * With CORS on, OPTIONS is left to the CORS preflight handler.
 */
export function methodNotAllowed(
  app: FastifyInstance,
  url: string,
  allowed: HTTPMethods[],
  { corsEnabled, errorSchema = errorRef }: { corsEnabled: boolean; errorSchema?: object },
) {
  const allow = allowed.includes('GET') ? [...allowed, 'HEAD' as const] : allowed;
  const skip = corsEnabled ? [...allow, 'OPTIONS'] : allow;
  app.route({
    method: METHODS.filter((method) => !skip.includes(method)),
    url,
    schema: { hide: true, response: { 405: errorSchema } },
    handler: async (request) => {
      throw new MethodNotAllowedError(request.method, url, allow);
    },
  });
}
