import type OpenAI from 'openai';
import type { OpenAIConfig } from '../config.js';
import { LlmBadResponseError } from '../errors.js';
import type { Json, ResponsesUpstream } from '../gateway/ports.js';
import type { Logger } from '../logger.js';
import { toRelayedError } from './openai-chat-upstream.js';
import { readChunks } from './openai-client.js';

/**
 * The LLM's own Responses API, for an upstream that serves /v1/responses: the body goes as
 * the client wrote it (with askbase's conversation as its input), through the official SDK
 * with askbase's key, its retries and timeouts. A 404 reaches the caller as an
 * LlmRejectedRequestError with status 404, which is how askbase learns the upstream has none.
 */
export class OpenAIResponsesUpstream implements ResponsesUpstream {
  constructor(
    private readonly client: OpenAI,
    private readonly config: OpenAIConfig,
    private readonly logger: Logger,
  ) {}

  async create(body: Json, signal: AbortSignal): Promise<Json> {
    try {
      const response: unknown = await this.client.responses.create(
        { ...body, stream: false } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming,
        { signal },
      );
      if (typeof response !== 'object' || response === null || Array.isArray(response)) {
        throw new LlmBadResponseError('the LLM returned a malformed response');
      }
      // The SDK adds `output_text` for its callers; the wire object has none.
      const wire = { ...(response as Json) };
      delete wire.output_text;
      return wire;
    } catch (error) {
      throw toRelayedError(error, this.logger);
    }
  }

  async stream(body: Json, onEvent: (event: Json) => void, signal: AbortSignal): Promise<void> {
    try {
      // The SDK's timeout and retries cover the request up to the response headers only.
      const stream = await this.client.responses.create(
        { ...body, stream: true } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming,
        { signal },
      );
      await readChunks(stream, { silenceMs: this.config.timeoutMs, signal }, (event) =>
        onEvent(event as unknown as Json),
      );
    } catch (error) {
      throw toRelayedError(error, this.logger);
    }
  }
}
