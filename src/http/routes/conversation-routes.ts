import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { ErrorCode } from '../../errors.js';
import type { QaService } from '../../qa/qa-service.js';
import { EVERY_ROUTE_CODES, errorResponses, idParams, questionAnswerRef } from '../schemas.js';
import { toJson } from '../serialize.js';

export interface ConversationRoutesOptions {
  qa: QaService;
}

const BY_ID_CODES = [
  ...EVERY_ROUTE_CODES,
  'database_unavailable',
  'not_found',
] as const satisfies ErrorCode[];

/** Conversations turn by turn, and any stored exchange whole. */
export const conversationRoutes: FastifyPluginAsyncJsonSchemaToTs<{
  Options: ConversationRoutesOptions;
}> = async (app, { qa }) => {
  app.get(
    '/conversations/:id',
    {
      schema: {
        tags: ['questions'],
        summary: 'A conversation: its turns, oldest first',
        params: idParams,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'turns'],
            properties: {
              id: { type: 'integer' },
              turns: { type: 'array', items: questionAnswerRef },
            },
          },
          ...errorResponses(BY_ID_CODES),
        },
      },
    },
    async (request) => ({
      id: request.params.id,
      turns: (await qa.conversation(request.params.id)).map(toJson),
    }),
  );

  app.get(
    '/qa/:id/exchange',
    {
      schema: {
        tags: ['questions'],
        summary: 'A stored exchange whole: the request as sent, every message, and the response',
        description:
          'The request is rebuilt from the turns of its conversation, each of which stored only its new messages; `history_complete` is false when an earlier turn was deleted since. For an ask, the request and response are written in the Chat Completions shape. Both are null when the text was not stored.',
        params: idParams,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'request', 'response', 'history_complete'],
            properties: {
              id: { type: 'integer' },
              request: { type: ['object', 'null'], additionalProperties: true },
              response: { type: ['object', 'null'], additionalProperties: true },
              history_complete: { type: 'boolean' },
            },
          },
          ...errorResponses(BY_ID_CODES),
        },
      },
    },
    async (request, reply) => {
      const exchange = await qa.exchange(request.params.id);
      // Sent as written: the request and response are the client's and the LLM's JSON.
      return reply.type('application/json; charset=utf-8').send(
        JSON.stringify({
          id: exchange.row.id,
          request: exchange.request,
          response: exchange.response,
          history_complete: exchange.historyComplete,
        }),
      );
    },
  );
};
