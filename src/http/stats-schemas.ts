/** JSON Schemas of GET /stats: its query, and the figures it answers with. */
import type { FromSchema } from 'json-schema-to-ts';
import { listQuery } from './schemas.js';

export const statsQuery = {
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
const statsRequired = Object.keys(statsProperties) as (keyof typeof statsProperties)[];

const stats = {
  type: 'object',
  additionalProperties: false,
  required: statsRequired,
  properties: statsProperties,
} as const;

/** GET /stats's answer: the totals, and the same figures per group. */
export const statsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['totals', 'groups'],
  properties: {
    totals: stats,
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
} as const;

/** Totals over stored questions as the API sends them. */
export type StatsJson = FromSchema<typeof stats>;
