/** JSON Schemas for the HTTP contract; Fastify validates input and serialises output with them. */

import { QUESTION_STATUSES } from '../domain/question-answer.js';

export const errorBody = {
  $id: 'ErrorBody',
  description:
    'An error. `param` names the input at fault; `id` names the stored question the LLM failed to answer.',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        param: { type: 'string' },
        id: { type: 'integer' },
      },
    },
  },
} as const;

const nullable = <T extends string>(type: T) => ({ type: [type, 'null'] }) as const;

export const questionAnswer = {
  $id: 'QuestionAnswer',
  description: 'A stored question and what became of it',
  type: 'object',
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
  ],
  properties: {
    id: { type: 'integer', minimum: 1 },
    question: { type: 'string' },
    answer: nullable('string'),
    status: { type: 'string', enum: ['pending', 'answered', 'failed'] },
    created_at: { type: 'string', format: 'date-time' },
    answered_at: { ...nullable('string'), format: 'date-time' },
    model: nullable('string'),
    usage: {
      type: ['object', 'null'],
      required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
      properties: {
        prompt_tokens: { type: 'integer' },
        completion_tokens: { type: 'integer' },
        total_tokens: { type: 'integer' },
      },
    },
    latency_ms: nullable('integer'),
    error: {
      type: ['object', 'null'],
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

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
  },
} as const;

/** The events of a streamed answer, for the API documentation (streams are not serialised). */
export const askEventStream = {
  type: 'string',
  description: [
    'Server-sent events, each `data` a single line of JSON:',
    '`created` {"id"} once the question is stored;',
    '`delta` {"text"} for each piece of the answer, in order;',
    'then `done` with the QuestionAnswer, or `error` with {"error": {"code", "message", "id"}}.',
  ].join(' '),
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
        'Full-text search over question and answer, in web search syntax: words, "a phrase", or, -word. Results stay newest first, not ranked.',
    },
    status: { type: 'string', enum: QUESTION_STATUSES },
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
