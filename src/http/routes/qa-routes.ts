import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../../errors.js';
import type { QaService } from '../../qa/qa-service.js';
import { toErrorResponse } from '../error-handler.js';
import { EventStream } from '../event-stream.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import {
  askBody,
  askEventStream,
  errorRef,
  idParams,
  listQuery,
  questionAnswerRef,
} from '../schemas.js';
import { decodeCursor, encodeCursor, toJson } from '../serialize.js';

interface IdParams {
  id: number;
}

interface AskBody {
  question: string;
  stream?: boolean;
}

export function qaRoutes(app: FastifyInstance, { qa }: { qa: QaService }) {
  app.post<{ Body: AskBody }>(
    '/ask',
    {
      schema: {
        body: askBody,
        response: {
          200: {
            description: 'The answered question, or its answer streamed as server-sent events',
            content: {
              'application/json': { schema: questionAnswerRef },
              'text/event-stream': { schema: askEventStream },
            },
          },
          '4xx': errorRef,
          '5xx': errorRef,
        },
      },
    },
    async (request, reply) => {
      if (!wantsEventStream(request)) return toJson(await qa.ask(request.body.question));
      await streamAnswer(qa, request, reply);
    },
  );
  methodNotAllowed(app, '/ask', ['POST']);

  app.get<{ Params: IdParams }>(
    '/qa/:id',
    { schema: { params: idParams, response: { 200: questionAnswerRef, '4xx': errorRef } } },
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
        },
      },
    },
    async (request) => {
      await qa.delete(request.params.id);
      return { id: request.params.id, deleted: true };
    },
  );
  methodNotAllowed(app, '/qa/:id', ['GET', 'DELETE']);

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/qas',
    {
      schema: {
        querystring: listQuery,
        response: { 200: { type: 'array', items: questionAnswerRef }, '4xx': errorRef },
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
  methodNotAllowed(app, '/qas', ['GET']);
}

/** The body's `stream` flag when given, else whether the client accepts an event stream. */
function wantsEventStream(request: FastifyRequest<{ Body: AskBody }>): boolean {
  if (request.body.stream !== undefined) return request.body.stream;
  return (request.headers.accept ?? '').split(',').some((range) => {
    const [mediaType, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    return mediaType === 'text/event-stream' && !params.some((param) => /^q=0(\.0*)?$/.test(param));
  });
}

/**
 * POST /ask as server-sent events. Until the question is stored nothing is streamed, so
 * validation and llm_not_configured stay plain JSON errors with their status; after that every
 * outcome, failure included, is an event.
 */
async function streamAnswer(
  qa: QaService,
  request: FastifyRequest<{ Body: AskBody }>,
  reply: FastifyReply,
): Promise<void> {
  const events = new EventStream(reply);
  let questionId: number | undefined;
  try {
    const answered = await qa.askStreaming(request.body.question, {
      created: ({ id }) => {
        questionId = id;
        events.send('created', { id });
      },
      delta: (text) => events.send('delta', { text }),
    });
    events.send('done', toJson(answered));
  } catch (error) {
    if (!events.started) throw error;
    const { body } = toErrorResponse(error, request);
    events.send('error', { error: { ...body.error, id: questionId } });
  } finally {
    events.end();
  }
}
