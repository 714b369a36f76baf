import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';

export interface MetricsRoutesOptions {
  metrics: Metrics;
}

/** GET /metrics in the Prometheus text format. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { metrics }) => {
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
};
