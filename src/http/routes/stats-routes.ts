import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { Stats } from '../../domain/question-answer.js';
import type { QaService } from '../../qa/qa-service.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import { EVERY_ROUTE_CODES, errorResponses, listQuery } from '../schemas.js';
import { listFilter } from './list-query.js';

export interface StatsRoutesOptions {
  qa: QaService;
  corsEnabled: boolean;
}

const statsQuery = {
  type: 'object',
  properties: {
    since: listQuery.properties.since,
    until: listQuery.properties.until,
    key: listQuery.properties.key,
    kind: listQuery.properties.kind,
    group_by: {
      type: 'string',
      enum: ['model', 'day', 'key'],
      description: 'Also give the figures per model, per UTC day, or per API key name',
    },
  },
} as const;

const nullableNumber = { type: ['number', 'null'] } as const;
const statsProperties = {
  asks: { type: 'integer' },
  answered: { type: 'integer' },
  failed: { type: 'integer' },
  pending: { type: 'integer' },
  failed_by_code: {
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Failed questions per error code',
  },
  prompt_tokens: { type: 'number' },
  completion_tokens: { type: 'number' },
  cost_usd: { ...nullableNumber, description: 'Null when no question has a known cost' },
  latency_ms: {
    type: 'object',
    additionalProperties: false,
    required: ['p50', 'p95', 'p99'],
    properties: { p50: nullableNumber, p95: nullableNumber, p99: nullableNumber },
    description: 'LLM latency percentiles over the answered questions',
  },
} as const;
const statsRequired = Object.keys(statsProperties);

const toJson = (stats: Stats) => ({
  asks: stats.asks,
  answered: stats.answered,
  failed: stats.failed,
  pending: stats.pending,
  failed_by_code: stats.failedByCode,
  prompt_tokens: stats.promptTokens,
  completion_tokens: stats.completionTokens,
  cost_usd: stats.costUsd,
  latency_ms: stats.latencyMs,
});

/** GET /stats: what was asked, answered, failed, spent and how fast, in a period. */
export const statsRoutes: FastifyPluginAsyncJsonSchemaToTs<{
  Options: StatsRoutesOptions;
}> = async (app, { qa, corsEnabled }) => {
  app.get(
    '/stats',
    {
      schema: {
        tags: ['questions'],
        summary: 'Totals: asks, outcomes, failures by code, tokens, cost and latency percentiles',
        querystring: statsQuery,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['totals', 'groups'],
            properties: {
              totals: {
                type: 'object',
                additionalProperties: false,
                required: statsRequired,
                properties: statsProperties,
              },
              groups: {
                type: 'array',
                description: 'Per group_by value, ordered by it; empty without group_by',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['group', ...statsRequired],
                  properties: { group: { type: ['string', 'null'] }, ...statsProperties },
                },
              },
            },
          },
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
        totals: toJson(totals),
        groups: groups.map(({ group, ...stats }) => ({ group, ...toJson(stats) })),
      };
    },
  );
  methodNotAllowed(app, '/stats', ['GET'], { corsEnabled });
};
