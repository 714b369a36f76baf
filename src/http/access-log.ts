import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';
import { streamOutcomeStatus } from './event-stream.js';

/**
 * One access-log line and one HTTP metrics sample per request (Fastify's own two lines are
 * off). Streams count too: Fastify runs onResponse when a hijacked reply finishes; a stream's
 * status line always says 200, so it is counted with the status its outcome had.
 */
export function logRequests(app: FastifyInstance, metrics: Pick<Metrics, 'httpRequest'>): void {
  app.addHook('onResponse', async (request, reply) => {
    const statusCode = streamOutcomeStatus(request) ?? reply.statusCode;
    metrics.httpRequest({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode,
      seconds: reply.elapsedTime / 1000,
    });
    // The path without its query string: a search (q=…) may quote what was stored.
    const query = request.url.indexOf('?');
    request.log.info(
      {
        method: request.method,
        path: query === -1 ? request.url : request.url.slice(0, query),
        statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  });
}
