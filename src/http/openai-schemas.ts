/** JSON Schemas of the OpenAI-compatible routes (/v1): what askbase checks, and its errors. */
import { askHeaders } from './schemas.js';

export const chatBody = {
  type: 'object',
  required: ['model', 'messages'],
  // Every other field is the LLM's business, forwarded as written.
  additionalProperties: true,
  properties: {
    model: { type: 'string', minLength: 1 },
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['role'],
        additionalProperties: true,
        properties: { role: { type: 'string', minLength: 1 } },
      },
    },
    stream: { type: ['boolean', 'null'] },
    stream_options: {
      type: ['object', 'null'],
      additionalProperties: true,
      properties: { include_usage: { type: 'boolean' } },
    },
  },
} as const;

export const chatHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': askHeaders.properties['idempotency-key'],
    'x-askbase-store': {
      type: 'boolean',
      description:
        "false: answer, but keep no text of the exchange (the default is STORE_TEXT). OpenAI's own `store` field is forwarded untouched.",
    },
    'x-askbase-cache': {
      type: 'boolean',
      description:
        'false: ask the LLM even when the answer cache (CACHE_TTL_SECONDS) holds an answer',
    },
    'x-askbase-conversation-id': {
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        'Store this exchange as a turn of that conversation; without it, askbase finds the conversation from the messages',
    },
  },
} as const;

/** What an id askbase gave (or an item's id) can be: `resp_` and hex digits, and the like. */
const RESPONSE_ID = { minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } as const;

export const responsesBody = {
  type: 'object',
  required: ['model', 'input'],
  // Every other field is the LLM's business, forwarded as written (or translated).
  additionalProperties: true,
  properties: {
    model: { type: 'string', minLength: 1 },
    input: {
      anyOf: [
        { type: 'string' },
        {
          type: 'array',
          items: { type: 'object', additionalProperties: true },
        },
      ],
    },
    instructions: { type: ['string', 'null'] },
    previous_response_id: { type: ['string', 'null'], ...RESPONSE_ID },
    store: { type: ['boolean', 'null'] },
    stream: { type: ['boolean', 'null'] },
    background: { type: ['boolean', 'null'] },
    tools: { type: ['array', 'null'], items: { type: 'object', additionalProperties: true } },
  },
} as const;

export const responsesHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': askHeaders.properties['idempotency-key'],
    'x-askbase-store': {
      type: 'boolean',
      description:
        'false: answer, but keep no text of the response (the default is STORE_TEXT), so it cannot be named again. The body\'s `"store": false` only makes it not named again: askbase keeps its text.',
    },
  },
} as const;

export const responseIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', ...RESPONSE_ID } },
} as const;

export const inputItemsQuery = {
  type: 'object',
  additionalProperties: true,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
    after: { type: 'string', ...RESPONSE_ID },
  },
} as const;

/** The headers that name a stored exchange, on every /v1 answer that stores one. */
export const askbaseIdHeaders = {
  'x-askbase-id': { type: 'integer', description: 'The stored exchange (GET /qa/{id})' },
  'x-askbase-conversation-id': {
    type: 'integer',
    description: 'Its conversation (GET /conversations/{id})',
  },
} as const;

const openAiError = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type'],
      additionalProperties: true,
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        param: { type: ['string', 'null'] },
        code: { type: ['string', 'null'] },
      },
    },
  },
} as const;

/** OpenAI's error shape: askbase's own errors, and the LLM's refusals relayed as it sent them. */
export const openAiErrorResponses = {
  '4xx': {
    description: "The request cannot be served as it is (OpenAI's error shape)",
    ...openAiError,
  },
  '5xx': {
    description: "askbase, its database or the LLM failed (OpenAI's error shape)",
    ...openAiError,
  },
} as const;
