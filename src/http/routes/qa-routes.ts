import type { FastifyInstance } from 'fastify';
import type { SecurityConfig } from '../../config.js';
import { InvalidRequestError } from '../../errors.js';
import type { QaService } from '../../qa/qa-service.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import {
  askBody,
  askHeaders,
  errorRef,
  idParams,
  listQuery,
  questionAnswerRef,
} from '../schemas.js';
import { rateLimited } from '../security.js';
import { decodeCursor, encodeCursor, toJson } from '../serialize.js';

interface IdParams {
  id: number;
}

const answerResponses = { 200: questionAnswerRef, '4xx': errorRef, '5xx': errorRef };

export function qaRoutes(
  app: FastifyInstance,
  { qa, security, corsEnabled }: { qa: QaService; security: SecurityConfig; corsEnabled: boolean },
) {
  app.post<{ Body: { question: string }; Headers: { 'idempotency-key'?: string } }>(
    '/ask',
    {
      config: rateLimited(security),
      schema: { body: askBody, headers: askHeaders, response: answerResponses },
    },
    async (request) =>
      toJson(
        await qa.ask({
          question: request.body.question,
          idempotencyKey: request.headers['idempotency-key'],
        }),
      ),
  );
  methodNotAllowed(app, '/ask', ['POST'], { corsEnabled });

  app.get<{ Params: IdParams }>(
    '/qa/:id',
    {
      schema: {
        params: idParams,
        response: { 200: questionAnswerRef, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async (request) => toJson(await qa.get(request.params.id)),
  );

  app.delete<{ Params: IdParams }>(
    '/qa/:id',
    {
      schema: {
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['id', 'deleted'],
            properties: { id: { type: 'integer' }, deleted: { type: 'boolean' } },
          },
          '4xx': errorRef,
          '5xx': errorRef,
        },
      },
    },
    async (request) => {
      await qa.delete(request.params.id);
      return { id: request.params.id, deleted: true };
    },
  );
  methodNotAllowed(app, '/qa/:id', ['GET', 'DELETE'], { corsEnabled });

  app.post<{ Params: IdParams }>(
    '/qa/:id/retry',
    { config: rateLimited(security), schema: { params: idParams, response: answerResponses } },
    async (request) => toJson(await qa.retry(request.params.id)),
  );
  methodNotAllowed(app, '/qa/:id/retry', ['POST'], { corsEnabled });

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/qas',
    {
      schema: {
        querystring: listQuery,
        response: {
          200: { type: 'array', items: questionAnswerRef },
          '4xx': errorRef,
          '5xx': errorRef,
        },
      },
    },
    async (request, reply) => {
      const { limit, cursor } = request.query;
      const afterId = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && afterId === undefined) {
        throw new InvalidRequestError(
          'cursor is not valid; use the Link header of a previous page',
          'cursor',
        );
      }
      const page = await qa.list({ limit, afterId });
      if (page.nextAfterId !== undefined) {
        const next = `/qas?limit=${limit}&cursor=${encodeCursor(page.nextAfterId)}`;
        reply.header('link', `<${next}>; rel="next"`);
      }
      return page.items.map(toJson);
    },
  );
  methodNotAllowed(app, '/qas', ['GET'], { corsEnabled });
}
