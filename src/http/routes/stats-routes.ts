import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { QaService } from '../../qa/qa-service.js';
import { EVERY_ROUTE_CODES, errorResponses } from '../schemas.js';
import { toStatsJson } from '../serialize.js';
import { statsBody, statsQuery } from '../stats-schemas.js';
import { listFilter } from './list-query.js';

export interface StatsRoutesOptions {
  qa: QaService;
}

/** GET /stats: what was asked, answered, failed, spent and how fast, in a period. */
export const statsRoutes: FastifyPluginAsyncJsonSchemaToTs<{
  Options: StatsRoutesOptions;
}> = async (app, { qa }) => {
  app.get(
    '/stats',
    {
      schema: {
        tags: ['questions'],
        summary: 'Totals: asks, outcomes, failures by code, tokens, cost and latency percentiles',
        querystring: statsQuery,
        response: {
          200: statsBody,
          ...errorResponses([...EVERY_ROUTE_CODES, 'database_unavailable']),
        },
      },
    },
    async (request) => {
      const { since, until, keyName, kind } = listFilter(request.query);
      const { totals, groups } = await qa.stats(
        { since, until, keyName, kind },
        request.query.group_by,
      );
      return {
        totals: toStatsJson(totals),
        groups: groups.map(({ group, ...stats }) => ({ group, ...toStatsJson(stats) })),
      };
    },
  );
};
