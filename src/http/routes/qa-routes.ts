import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { preHandlerAsyncHookHandler } from 'fastify';
import type { ErrorCode } from '../../errors.js';
import type { QaService } from '../../qa/qa-service.js';
import {
  EVERY_ROUTE_CODES,
  askBody,
  askEventStream,
  askHeaders,
  errorResponses,
  idParams,
  listQuery,
  questionAnswerRef,
} from '../schemas.js';
import { toJson } from '../serialize.js';
import { streamAnswer, wantsEventStream } from './ask-stream.js';
import { afterIdOf, listFilter, nextPageLink } from './list-query.js';

export interface QaRoutesOptions {
  qa: QaService;
  /** The rate limit on asking the LLM, when one is set. */
  limitAsks: preHandlerAsyncHookHandler | undefined;
}

/** What an ask can end in when the LLM does not answer: the row is failed, the error has its id. */
const LLM_FAILURES = [
  'llm_bad_response',
  'llm_unavailable',
  'llm_timeout',
  'interrupted',
] as const satisfies ErrorCode[];
/** What any route that reads or writes the store can answer with. */
const STORE_CODES = [...EVERY_ROUTE_CODES, 'database_unavailable'] as const satisfies ErrorCode[];
const BY_ID_CODES = [...STORE_CODES, 'not_found'] as const;

/** Ask, read back, retry, delete and list stored questions. */
export const qaRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: QaRoutesOptions }> = async (
  app,
  { qa, limitAsks },
) => {
  const rateLimited = limitAsks ? { preHandler: limitAsks } : {};

  app.post(
    '/ask',
    {
      ...rateLimited,
      schema: {
        tags: ['questions'],
        summary: 'Ask the LLM a question and store its answer',
        description:
          'Answers with the stored QuestionAnswer, or with `Accept: text/event-stream` (or `"stream": true`) streams it as server-sent events. When the LLM fails the question is stored as failed and the error carries its id. An `Idempotency-Key` header makes a retried request return the first result.',
        body: askBody,
        headers: askHeaders,
        response: {
          200: {
            description: 'The answered question, or its answer streamed as server-sent events',
            content: {
              'application/json': { schema: questionAnswerRef },
              'text/event-stream': { schema: askEventStream },
            },
          },
          ...errorResponses([
            ...STORE_CODES,
            'invalid_json',
            'payload_too_large',
            'unsupported_media_type',
            'rate_limited',
            'idempotency_key_reused',
            'request_in_progress',
            'llm_not_configured',
            ...LLM_FAILURES,
          ]),
        },
      },
    },
    async (request, reply) => {
      const ask = {
        question: request.body.question,
        idempotencyKey: request.headers['idempotency-key'],
        keyName: request.keyName,
        store: request.body.store,
        cache: request.body.cache,
        followUpTo: request.body.follow_up_to,
      };
      if (wantsEventStream(request.body.stream, request.headers.accept)) {
        return streamAnswer(qa, ask, request, reply);
      }
      return toJson(await qa.ask(ask));
    },
  );

  app.get(
    '/qa/:id',
    {
      schema: {
        tags: ['questions'],
        summary: 'Read a stored question and its answer',
        params: idParams,
        response: { 200: questionAnswerRef, ...errorResponses(BY_ID_CODES) },
      },
    },
    async (request) => toJson(await qa.get(request.params.id)),
  );

  app.delete(
    '/qa/:id',
    {
      schema: {
        tags: ['questions'],
        summary: 'Delete a stored question and its answer',
        params: idParams,
        response: {
          200: {
            description: 'Deleted',
            type: 'object',
            additionalProperties: false,
            required: ['id', 'deleted'],
            properties: { id: { type: 'integer' }, deleted: { type: 'boolean' } },
          },
          ...errorResponses(BY_ID_CODES),
        },
      },
    },
    async (request) => {
      await qa.delete(request.params.id);
      return { id: request.params.id, deleted: true };
    },
  );

  app.post(
    '/qa/:id/retry',
    {
      ...rateLimited,
      schema: {
        tags: ['questions'],
        summary: 'Ask a failed question again, under the same id',
        params: idParams,
        response: {
          200: questionAnswerRef,
          ...errorResponses([
            ...BY_ID_CODES,
            'not_retryable',
            'rate_limited',
            'llm_not_configured',
            ...LLM_FAILURES,
          ]),
        },
      },
    },
    async (request) => toJson(await qa.retry(request.params.id)),
  );

  app.get(
    '/qas',
    {
      schema: {
        tags: ['questions'],
        summary: 'List, search and filter stored questions, newest first',
        querystring: listQuery,
        response: {
          200: {
            description:
              'One page of questions, newest first: at most `limit` rows, and fewer once their text passes about 1 MiB',
            headers: {
              link: {
                type: 'string',
                description: 'rel="next": the next page, with the same filters, when there is one',
              },
            },
            type: 'array',
            items: questionAnswerRef,
          },
          ...errorResponses(STORE_CODES),
        },
      },
    },
    async (request, reply) => {
      const { query } = request;
      const afterId = afterIdOf(query.cursor);
      const page = await qa.list({ limit: query.limit, afterId, ...listFilter(query) });
      if (page.nextAfterId !== undefined)
        reply.header('link', nextPageLink(query, page.nextAfterId));
      return page.items.map(toJson);
    },
  );
};
