import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';
import { methodNotAllowed } from '../method-not-allowed.js';

export function metricsRoutes(
  app: FastifyInstance,
  { metrics, corsEnabled }: { metrics: Metrics; corsEnabled: boolean },
) {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics: HTTP, LLM calls and tokens, database pool, process',
        response: {
          200: {
            description: 'The Prometheus text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.scrape()),
  );
  methodNotAllowed(app, '/metrics', ['GET'], { corsEnabled });
}
