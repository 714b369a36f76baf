import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { ChatCall, ChatResult, ChatService } from '../../gateway/chat-service.js';
import type { Json } from '../../gateway/completion.js';
import { toErrorResponse } from '../error-handler.js';
import { EventStream } from '../event-stream.js';
import {
  askbaseIdHeaders,
  chatBody,
  chatHeaders,
  openAiErrorResponses,
} from '../openai-schemas.js';
import { setAskbaseIds } from '../askbase-ids.js';

export interface OpenAiRoutesOptions {
  chat: ChatService;
  /** The rate limit on asking the LLM, shared with /ask, when one is set. */
  limitAsks: preHandlerAsyncHookHandler | undefined;
  /** CHAT_BODY_LIMIT_BYTES: a chat request carries its whole conversation. */
  bodyLimit: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** OpenAI's Chat Completions and model list, each exchange stored by askbase. */
export const openAiRoutes: FastifyPluginAsyncJsonSchemaToTs<{
  Options: OpenAiRoutesOptions;
}> = async (app, { chat, limitAsks, bodyLimit }) => {
  app.post(
    '/v1/chat/completions',
    {
      ...(limitAsks && { preHandler: limitAsks }),
      bodyLimit,
      schema: {
        tags: ['openai'],
        summary: 'Chat Completions, as OpenAI serves them; every exchange stored',
        description:
          'The body is forwarded to the LLM as written (askbase checks `model` and `messages`); the answer is the LLM\'s, streamed as it arrives with `"stream": true`. `x-askbase-id` names the stored exchange, `x-askbase-conversation-id` its conversation. Errors have OpenAI\'s shape. See docs/openai-gateway.md.',
        body: chatBody,
        headers: chatHeaders,
        response: {
          200: {
            description: "The LLM's chat.completion, or its chunks as server-sent events",
            headers: askbaseIdHeaders,
            content: {
              'application/json': { schema: { type: 'object', additionalProperties: true } },
              'text/event-stream': {
                schema: {
                  type: 'string',
                  description: '`data: {chat.completion.chunk}` events, then `data: [DONE]`',
                },
              },
            },
          },
          ...openAiErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const call: ChatCall = {
        body: request.body,
        keyName: request.keyName,
        idempotencyKey: request.headers['idempotency-key'],
        store: request.headers['x-askbase-store'],
        conversationId: request.headers['x-askbase-conversation-id'],
        cache: request.headers['x-askbase-cache'],
      };
      if (request.body.stream === true) return streamChat(chat, call, request, reply);
      const result = await chat.complete(call);
      setAskbaseIds(reply, result.row);
      return reply.type(JSON_TYPE).send(JSON.stringify(result.completion));
    },
  );

  app.get(
    '/v1/models',
    {
      schema: {
        tags: ['openai'],
        summary: "The models a client may use: ALLOWED_MODELS, or the LLM's own list",
        response: {
          200: {
            type: 'object',
            required: ['object', 'data'],
            properties: {
              object: { type: 'string', enum: ['list'] },
              data: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: true,
                  required: ['id', 'object'],
                  properties: {
                    id: { type: 'string' },
                    object: { type: 'string' },
                    created: { type: 'integer' },
                    owned_by: { type: 'string' },
                  },
                },
              },
            },
          },
          ...openAiErrorResponses,
        },
      },
    },
    async () => ({ object: 'list' as const, data: await chat.models() }),
  );
};

/**
 * A streamed exchange: nothing is sent until it is stored as pending, so refusals stay plain
 * errors with their status; then each chunk as it arrives, and `data: [DONE]`. A failure after
 * that is an error event in OpenAI's shape, which the official clients raise.
 */
async function streamChat(
  chat: ChatService,
  call: ChatCall,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const events = new EventStream(reply);
  try {
    const result = await chat.complete(call, {
      created: (pending) => setAskbaseIds(reply, pending),
      chunk: (chunk) => events.data(JSON.stringify(chunk)),
    });
    if (result.replayed) {
      setAskbaseIds(reply, result.row);
      for (const chunk of replayChunks(result, call)) events.data(JSON.stringify(chunk));
    }
    events.data('[DONE]');
  } catch (error) {
    if (!events.started) throw error;
    const { status, body } = toErrorResponse(error, request);
    events.setOutcomeStatus(status);
    events.data(JSON.stringify(body));
  } finally {
    events.end();
  }
}

/** A stored completion as the chunks of a stream, for a repeated Idempotency-Key. */
function replayChunks({ completion }: ChatResult, call: ChatCall): Json[] {
  const base = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
  };
  const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
  const chunks: Json[] = choices.map((choice) => ({
    ...base,
    choices: [
      {
        index: choice.index ?? 0,
        delta: choice.message ?? {},
        finish_reason: choice.finish_reason ?? null,
      },
    ],
  }));
  const options = call.body.stream_options as { include_usage?: unknown } | undefined;
  if (options?.include_usage === true)
    chunks.push({ ...base, choices: [], usage: completion.usage });
  return chunks;
}
