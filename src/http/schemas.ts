/**
 * JSON Schemas for the HTTP contract. Fastify validates input and serialises output with them,
 * the OpenAPI document is generated from them, and the TypeScript types of the wire shapes are
 * derived from them (FromSchema): the shape is written once, here.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { EXCHANGE_KINDS, QUESTION_STATUSES } from '../domain/question-answer.js';
import { ERRORS, type ErrorCode } from '../errors.js';

const errorObject = (codes: readonly ErrorCode[]) =>
  ({
    type: 'object',
    required: ['code', 'message'],
    additionalProperties: false,
    properties: {
      code: { type: 'string', enum: codes },
      message: { type: 'string' },
      param: { type: 'string', description: 'The input at fault' },
      id: { type: 'integer', description: 'The stored question the error is about' },
    },
  }) as const;

const ALL_CODES = Object.keys(ERRORS) as ErrorCode[];

export const errorBody = {
  $id: 'ErrorBody',
  description:
    'An error. `param` names the input at fault; `id` names the stored question the LLM failed to answer.',
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: { error: errorObject(ALL_CODES) },
} as const;

/** The error responses of a route: its 4xx and 5xx bodies, each with the codes it can return. */
export function errorResponses(codes: readonly ErrorCode[]) {
  const body = (description: string, these: ErrorCode[]) => ({
    description,
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: { error: errorObject(these) },
  });
  const clientCodes = codes.filter((code) => ERRORS[code].status < 500);
  const serverCodes = codes.filter((code) => ERRORS[code].status >= 500);
  return {
    ...(clientCodes.length > 0 && {
      '4xx': body('The request cannot be served as it is', clientCodes),
    }),
    '5xx': body('askbase, its database or the LLM failed; see the code', [
      ...serverCodes,
      'internal_error',
    ]),
  };
}

/**
 * Codes any route behind the API keys may answer with, from the hooks that run before every
 * route: a missing Host header, a missing key, shutting down.
 */
export const EVERY_ROUTE_CODES = [
  'invalid_request',
  'unauthorized',
  'shutting_down',
] as const satisfies ErrorCode[];

const nullable = <T extends string>(type: T) => ({ type: [type, 'null'] }) as const;

export const questionAnswer = {
  $id: 'QuestionAnswer',
  description: 'A stored question and what became of it',
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'question',
    'answer',
    'status',
    'created_at',
    'answered_at',
    'model',
    'usage',
    'latency_ms',
    'error',
    'key_name',
    'text_stored',
    'cost_usd',
    'cached_from',
    'kind',
    'conversation_id',
    'parent_id',
    'finish_reason',
    'ttft_ms',
  ],
  properties: {
    id: { type: 'integer', minimum: 1 },
    question: {
      ...nullable('string'),
      description: 'Null (as the answer) when the ask said "store": false',
    },
    answer: nullable('string'),
    status: { type: 'string', enum: ['pending', 'answered', 'failed'] },
    created_at: { type: 'string', format: 'date-time' },
    answered_at: { ...nullable('string'), format: 'date-time' },
    model: nullable('string'),
    usage: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: [
        'prompt_tokens',
        'completion_tokens',
        'total_tokens',
        'cached_prompt_tokens',
        'reasoning_tokens',
      ],
      properties: {
        prompt_tokens: { type: 'integer' },
        completion_tokens: { type: 'integer' },
        total_tokens: { type: 'integer' },
        cached_prompt_tokens: {
          ...nullable('integer'),
          description: 'Prompt tokens the provider served from its cache, when it said',
        },
        reasoning_tokens: {
          ...nullable('integer'),
          description: 'Completion tokens the model spent reasoning, when it said',
        },
      },
    },
    latency_ms: nullable('integer'),
    ttft_ms: {
      ...nullable('integer'),
      description: 'Time to the first piece of a streamed answer; null when not streamed',
    },
    kind: {
      type: 'string',
      enum: EXCHANGE_KINDS,
      description: '`ask` (POST /ask) or `chat` (POST /v1/chat/completions)',
    },
    conversation_id: {
      ...nullable('integer'),
      description:
        'The conversation this is a turn of (the id of its first turn; GET /conversations/{id}); null for an ask no turn followed',
    },
    parent_id: {
      ...nullable('integer'),
      description: 'The turn this one follows; null on a first turn',
    },
    finish_reason: {
      ...nullable('string'),
      description: 'Why the model stopped (stop, length, tool_calls, …), as it said',
    },
    cached_from: {
      type: ['integer', 'null'],
      description:
        'The question whose answer this is a copy of (the answer cache, CACHE_TTL_SECONDS); null when the LLM answered',
    },
    cost_usd: {
      ...nullable('number'),
      description:
        'What the answer cost in USD, from its token usage and the price stored with it (built-in prices or MODEL_PRICES); null when the model has no known price',
    },
    text_stored: {
      type: 'boolean',
      description:
        'False when the question and answer text were not kept ("store": false or STORE_TEXT=false); the rest was',
    },
    key_name: {
      ...nullable('string'),
      description: 'The name of the API key that asked (API_KEYS); null without keys',
    },
    error: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** A stored question as the API sends it. */
export type QuestionAnswerJson = FromSchema<typeof questionAnswer>;
/** An error body as the API sends it. */
export type ErrorBodyJson = FromSchema<typeof errorBody>;

const ref = (id: string) => ({ $ref: `${id}#` }) as const;
export const errorRef = ref(errorBody.$id);
export const questionAnswerRef = ref(questionAnswer.$id);

export const askBody = {
  type: 'object',
  required: ['question'],
  properties: {
    question: { type: 'string' },
    stream: {
      type: 'boolean',
      description:
        'true streams the answer as server-sent events, false never does; when absent, `Accept: text/event-stream` decides',
    },
    cache: {
      type: 'boolean',
      description: 'false: ask the LLM even when the answer cache holds an answer',
    },
    store: {
      type: 'boolean',
      description:
        'false: answer as usual, but keep no text of the question or the answer (only status, model, usage, latency, key and times); the default is STORE_TEXT',
    },
    follow_up_to: {
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        'The id of an answered question (an ask or a chat turn) to follow up: the question is asked with that conversation so far, and stored as its next turn',
    },
  },
} as const;

/** The `data` of each server-sent event of a streamed answer. */
export const askCreatedEvent = {
  $id: 'AskCreatedEvent',
  description: '`event: created`: the question is stored as pending; the LLM is asked next',
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

export const askDeltaEvent = {
  $id: 'AskDeltaEvent',
  description: '`event: delta`: the next piece of the answer, in order',
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: { text: { type: 'string' } },
} as const;

/** The events of a streamed answer, for the API documentation (streams are not serialised). */
export const askEventStream = {
  description: [
    'Server-sent events, each `data` a single line of JSON: `created` (AskCreatedEvent) once',
    'the question is stored; `delta` (AskDeltaEvent) for each piece of the answer, in order;',
    'then `done` with the QuestionAnswer, or `error` with an ErrorBody whose error has the id.',
  ].join(' '),
  oneOf: [
    { $ref: 'AskCreatedEvent#' },
    { $ref: 'AskDeltaEvent#' },
    { $ref: 'QuestionAnswer#' },
    { $ref: 'ErrorBody#' },
  ],
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    cursor: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'Where the next page starts; take it from the Link header of the previous page',
    },
    q: {
      type: 'string',
      minLength: 1,
      maxLength: 1000,
      description:
        'Search over question and answer, in web search syntax: words, "a phrase", or, -word. English words are stemmed; words in other scripts are found too, in Chinese, Japanese, Thai and other scripts written without spaces also inside a sentence (docs/search.md). Results stay newest first, not ranked.',
    },
    status: { type: 'string', enum: QUESTION_STATUSES },
    kind: {
      type: 'string',
      enum: EXCHANGE_KINDS,
      description: 'Only asks (POST /ask) or only chat exchanges (POST /v1/chat/completions)',
    },
    conversation: {
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Only the turns of this conversation',
    },
    key: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'Only what the API key of this name asked (the names in API_KEYS)',
    },
    since: {
      type: 'string',
      format: 'date-time',
      description: 'Only questions created at or after this instant (RFC 3339)',
    },
    until: {
      type: 'string',
      format: 'date-time',
      description: 'Only questions created before this instant (RFC 3339)',
    },
  },
} as const;

/** GET /qas/export: the listing's filters, and a format; no paging (it is all of them). */
export const exportQuery = {
  type: 'object',
  properties: {
    format: {
      type: 'string',
      enum: ['ndjson', 'csv'],
      default: 'ndjson',
      description: 'ndjson: one QuestionAnswer per line; csv: RFC 4180 with a header row',
    },
    q: listQuery.properties.q,
    status: listQuery.properties.status,
    kind: listQuery.properties.kind,
    conversation: listQuery.properties.conversation,
    key: listQuery.properties.key,
    since: listQuery.properties.since,
    until: listQuery.properties.until,
  },
} as const;

export const askHeaders = {
  type: 'object',
  properties: {
    // 1 to 255 visible ASCII characters, as the IETF Idempotency-Key draft suggests.
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E]+$',
    },
  },
} as const;
