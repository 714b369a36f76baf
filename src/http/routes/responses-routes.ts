import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Json } from '../../gateway/completion.js';
import type {
  ResponseCall,
  ResponseResult,
  ResponsesService,
} from '../../gateway/responses-service.js';
import { toErrorResponse } from '../error-handler.js';
import { EventStream } from '../event-stream.js';
import {
  askbaseIdHeaders,
  inputItemsQuery,
  openAiErrorResponses,
  responseIdParams,
  responsesBody,
  responsesHeaders,
} from '../openai-schemas.js';
import { setAskbaseIds } from '../askbase-ids.js';

export interface ResponsesRoutesOptions {
  responses: ResponsesService;
  /** The rate limit on asking the LLM, shared with /ask, when one is set. */
  limitAsks: preHandlerAsyncHookHandler | undefined;
  /** CHAT_BODY_LIMIT_BYTES: a request may carry a long conversation. */
  bodyLimit: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const anyObject = { type: 'object', additionalProperties: true } as const;

/** OpenAI's Responses API, each response stored by askbase and continued from its store. */
export const responsesRoutes: FastifyPluginAsyncJsonSchemaToTs<{
  Options: ResponsesRoutesOptions;
}> = async (app, { responses, limitAsks, bodyLimit }) => {
  app.post(
    '/v1/responses',
    {
      ...(limitAsks && { preHandler: limitAsks }),
      bodyLimit,
      schema: {
        tags: ['openai'],
        summary: 'Responses, as OpenAI serves them; every response stored and continued by askbase',
        description:
          'The body is forwarded to the LLM\'s /v1/responses, or translated to Chat Completions when the LLM has none (RESPONSES_API). `previous_response_id` is resolved from askbase\'s store. With `"stream": true` the typed events arrive as they come. `x-askbase-id` names the stored row. See docs/openai-gateway.md.',
        body: responsesBody,
        headers: responsesHeaders,
        response: {
          200: {
            description: 'The Response, or its events as server-sent events',
            headers: askbaseIdHeaders,
            content: {
              'application/json': { schema: anyObject },
              'text/event-stream': {
                schema: {
                  type: 'string',
                  description:
                    '`event: response.…` events, from response.created to response.completed',
                },
              },
            },
          },
          ...openAiErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const call: ResponseCall = {
        body: request.body,
        keyName: request.keyName,
        idempotencyKey: request.headers['idempotency-key'],
        store: request.headers['x-askbase-store'],
      };
      if (request.body.stream === true) return streamResponse(responses, call, request, reply);
      const result = await responses.create(call);
      setAskbaseIds(reply, result.row);
      return reply.type(JSON_TYPE).send(JSON.stringify(result.response));
    },
  );

  const byId = {
    tags: ['openai'],
    params: responseIdParams,
    response: { 200: anyObject, ...openAiErrorResponses },
  };
  app.get(
    '/v1/responses/:id',
    { schema: { ...byId, summary: 'A response askbase stored, as far as it has got' } },
    async (request) => responses.retrieve(request.params.id, request.keyName),
  );
  app.delete(
    '/v1/responses/:id',
    { schema: { ...byId, summary: 'Deletes a stored response (its row)' } },
    async (request) => responses.delete(request.params.id, request.keyName),
  );

  app.get(
    '/v1/responses/:id/input_items',
    {
      schema: {
        ...byId,
        summary: 'The input items a stored response was given',
        querystring: inputItemsQuery,
      },
    },
    async (request) => {
      const { limit, order, after } = request.query;
      return responses.inputItems(request.params.id, request.keyName, { limit, order, after });
    },
  );
};

/**
 * A streamed response: nothing is sent until it is stored as pending, so refusals stay plain
 * errors with their status; then each event as it arrives. A failure after that is the
 * stream's `response.failed` event, which the service sends.
 */
async function streamResponse(
  responses: ResponsesService,
  call: ResponseCall,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const events = new EventStream(reply);
  const send = (event: Json) => events.send(String(event.type), event);
  try {
    const result = await responses.create(call, {
      created: (pending) => setAskbaseIds(reply, pending),
      event: send,
    });
    if (result.replayed) {
      setAskbaseIds(reply, result.row);
      for (const event of replayEvents(result)) send(event);
    }
  } catch (error) {
    if (!events.started) throw error;
    events.setOutcomeStatus(toErrorResponse(error, request).status);
  } finally {
    events.end();
  }
}

/** A stored response as the events of a stream, for a repeated Idempotency-Key. */
function replayEvents({ response }: ResponseResult): Json[] {
  const output = Array.isArray(response.output) ? (response.output as Json[]) : [];
  const events: Json[] = [
    { type: 'response.created', response: { ...response, status: 'in_progress', output: [] } },
    ...output.flatMap((item, index) => [
      { type: 'response.output_item.added', output_index: index, item },
      { type: 'response.output_item.done', output_index: index, item },
    ]),
    {
      type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed',
      response,
    },
  ];
  return events.map((event, index) => ({ ...event, sequence_number: index }));
}
