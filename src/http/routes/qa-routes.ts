import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';
import { InvalidRequestError } from '../../errors.js';
import type { QaService } from '../../qa/qa-service.js';
import type { ListFilter, QuestionStatus } from '../../domain/question-answer.js';
import { type Instant, toInstant } from '../date-time-format.js';
import { toErrorResponse } from '../error-handler.js';
import { EventStream } from '../event-stream.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import {
  askBody,
  askEventStream,
  askHeaders,
  errorRef,
  idParams,
  listQuery,
  questionAnswerRef,
} from '../schemas.js';
import { decodeCursor, encodeCursor, toJson } from '../serialize.js';

interface IdParams {
  id: number;
}

interface ListQuery {
  limit: number;
  cursor?: string;
  q?: string;
  status?: QuestionStatus;
  since?: string;
  until?: string;
}

/** The query parameters that narrow a listing, carried from page to page. */
const FILTER_PARAMS = ['q', 'status', 'since', 'until'] as const;

interface AskRoute {
  Body: { question: string; stream?: boolean };
  Headers: { 'idempotency-key'?: string };
}

const answerResponses = { 200: questionAnswerRef, '4xx': errorRef, '5xx': errorRef };

export function qaRoutes(
  app: FastifyInstance,
  {
    qa,
    limitAsks,
    corsEnabled,
  }: {
    qa: QaService;
    /** The rate limit on asking the LLM, when one is set. */
    limitAsks: preHandlerAsyncHookHandler | undefined;
    corsEnabled: boolean;
  },
) {
  const rateLimited = limitAsks ? { preHandler: limitAsks } : {};
  app.post<AskRoute>(
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
          '4xx': errorRef,
          '5xx': errorRef,
        },
      },
    },
    async (request, reply) => {
      if (wantsEventStream(request)) return streamAnswer(qa, request, reply);
      return toJson(await qa.ask(askRequest(request)));
    },
  );
  methodNotAllowed(app, '/ask', ['POST'], { corsEnabled });

  app.get<{ Params: IdParams }>(
    '/qa/:id',
    {
      schema: {
        tags: ['questions'],
        summary: 'Read a stored question and its answer',
        params: idParams,
        response: answerResponses,
      },
    },
    async (request) => toJson(await qa.get(request.params.id)),
  );

  app.delete<{ Params: IdParams }>(
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
    {
      ...rateLimited,
      schema: {
        tags: ['questions'],
        summary: 'Ask a failed question again, under the same id',
        params: idParams,
        response: answerResponses,
      },
    },
    async (request) => toJson(await qa.retry(request.params.id)),
  );
  methodNotAllowed(app, '/qa/:id/retry', ['POST'], { corsEnabled });

  app.get<{ Querystring: ListQuery }>(
    '/qas',
    {
      schema: {
        tags: ['questions'],
        summary: 'List, search and filter stored questions, newest first',
        querystring: listQuery,
        response: {
          200: {
            description: 'One page of questions, newest first',
            headers: {
              link: {
                type: 'string',
                description: 'rel="next": the next page, with the same filters, when there is one',
              },
            },
            type: 'array',
            items: questionAnswerRef,
          },
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
      const page = await qa.list({ limit, afterId, ...listFilter(request.query) });
      if (page.nextAfterId !== undefined) {
        const next = new URLSearchParams({ limit: String(limit) });
        for (const param of FILTER_PARAMS) {
          const value = request.query[param];
          if (value !== undefined) next.set(param, value);
        }
        next.set('cursor', encodeCursor(page.nextAfterId));
        reply.header('link', `</qas?${next.toString()}>; rel="next"`);
      }
      return page.items.map(toJson);
    },
  );
  methodNotAllowed(app, '/qas', ['GET'], { corsEnabled });
}

function askRequest(request: FastifyRequest<AskRoute>) {
  return {
    question: request.body.question,
    idempotencyKey: request.headers['idempotency-key'],
  };
}

/** The schema has checked types and formats; what is left is what it cannot express. */
function listFilter(query: ListQuery): ListFilter {
  // PostgreSQL text cannot hold NUL; it would fail the query instead of matching nothing.
  if (query.q?.includes('\u0000')) {
    throw new InvalidRequestError('q must not contain NUL characters', 'q');
  }
  const since = query.since === undefined ? undefined : instant(query.since, 'since');
  const until = query.until === undefined ? undefined : instant(query.until, 'until');
  if (since && until && since.microseconds >= until.microseconds) {
    throw new InvalidRequestError('until must be later than since', 'until');
  }
  return { search: query.q, status: query.status, since: since?.iso, until: until?.iso };
}

/** A date-time compared exactly as given, or a 400 naming it when that cannot be done. */
function instant(value: string, param: 'since' | 'until'): Instant {
  const read = toInstant(value);
  if (read === 'too precise') {
    throw new InvalidRequestError(`${param} must have at most microsecond precision`, param);
  }
  if (read === 'out of range') {
    throw new InvalidRequestError(`${param} must be between years 1 and 9999 in UTC`, param);
  }
  return read;
}

/** The body's `stream` flag when given, else whether the client accepts an event stream. */
function wantsEventStream(request: FastifyRequest<AskRoute>): boolean {
  if (request.body.stream !== undefined) return request.body.stream;
  return (request.headers.accept ?? '').split(',').some((range) => {
    const [mediaType, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    return mediaType === 'text/event-stream' && !params.some((param) => /^q=0(\.0*)?$/.test(param));
  });
}

/**
 * POST /ask as server-sent events. Until the question is stored nothing is streamed, so
 * validation, idempotency and availability errors stay plain JSON errors with their status;
 * after that every outcome, failure included, is an event.
 */
async function streamAnswer(
  qa: QaService,
  request: FastifyRequest<AskRoute>,
  reply: FastifyReply,
): Promise<void> {
  const events = new EventStream(reply);
  let questionId: number | undefined;
  try {
    const answered = await qa.ask(askRequest(request), {
      created: ({ id }) => {
        questionId = id;
        events.send('created', { id });
      },
      delta: (text) => events.send('delta', { text }),
    });
    // A repeated Idempotency-Key replays the stored answer without streaming it again.
    if (!events.started) events.send('created', { id: answered.id });
    events.send('done', toJson(answered));
  } catch (error) {
    if (!events.started) throw error;
    const { status, body } = toErrorResponse(error, request);
    events.setOutcomeStatus(status);
    events.send('error', { error: { ...body.error, id: questionId } });
  } finally {
    events.end();
  }
}
