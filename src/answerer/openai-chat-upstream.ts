import OpenAI from 'openai';
import type { OpenAIConfig } from '../config.js';
import type { LlmError } from '../errors.js';
import { LlmBadResponseError, LlmRejectedRequestError } from '../errors.js';
import type { ChatUpstream, Json, ModelEntry } from '../gateway/ports.js';
import type { Logger } from '../logger.js';
import { readChunks, retryAfterSeconds, toLlmError } from './openai-client.js';

/**
 * The upstream of /v1: the request body goes to the LLM's Chat Completions as the client
 * wrote it (a parameter new to OpenAI works without a new askbase), through the official SDK
 * with askbase's key, its retries and timeouts.
 */
export class OpenAIChatUpstream implements ChatUpstream {
  constructor(
    private readonly client: OpenAI,
    private readonly config: OpenAIConfig,
    private readonly logger: Logger,
  ) {}

  async complete(body: Json, signal: AbortSignal): Promise<Json> {
    try {
      const completion: unknown = await this.client.chat.completions.create(
        { ...body, stream: false } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
        { signal },
      );
      if (typeof completion !== 'object' || completion === null || Array.isArray(completion)) {
        throw new LlmBadResponseError('the LLM returned a malformed response');
      }
      return completion as Json;
    } catch (error) {
      throw this.toError(error);
    }
  }

  async stream(body: Json, onChunk: (chunk: Json) => void, signal: AbortSignal): Promise<void> {
    try {
      // The SDK's timeout and retries cover the request up to the response headers only.
      const stream = await this.client.chat.completions.create(
        { ...body, stream: true } as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
        { signal },
      );
      await readChunks(stream, { silenceMs: this.config.timeoutMs, signal }, (chunk) =>
        onChunk(chunk as unknown as Json),
      );
    } catch (error) {
      throw this.toError(error);
    }
  }

  async models(): Promise<ModelEntry[]> {
    try {
      const page = await this.client.models.list();
      return page.data.map((model) => ({ ...model }));
    } catch (error) {
      throw this.toError(error);
    }
  }

  private toError(error: unknown): LlmError {
    return toRelayedError(error, this.logger);
  }
}

/**
 * The LLM's own 4xx is the client's business: relayed as it was. But a 401 or 403 means
 * askbase's key is wrong, which the client cannot fix: that is askbase's 502.
 */
export function toRelayedError(error: unknown, logger: Logger): LlmError {
  if (
    error instanceof OpenAI.APIError &&
    typeof error.status === 'number' &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 401 &&
    error.status !== 403
  ) {
    const upstream: unknown = error.error;
    const retryAfter = retryAfterSeconds(error.headers as Headers | undefined);
    return new LlmRejectedRequestError(
      error.status,
      typeof upstream === 'object' && upstream !== null
        ? { error: upstream }
        : {
            error: {
              message: error.message,
              type: 'invalid_request_error',
              param: null,
              code: null,
            },
          },
      {
        cause: error,
        ...(retryAfter !== undefined && { headers: { 'retry-after': String(retryAfter) } }),
      },
    );
  }
  return toLlmError(error, logger);
}
