import OpenAI from 'openai';
import type { Stream } from 'openai/streaming';
import type { OpenAIConfig } from '../config.js';
import {
  LlmBadResponseError,
  LlmCallAbortedError,
  LlmError,
  LlmTimeoutError,
  LlmUnavailableError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { httpFetch } from './http-fetch.js';

/** The one SDK client of a process: /ask and /v1 share its kept-alive connections. */
export function createOpenAIClient(config: OpenAIConfig): OpenAI {
  return new OpenAI({
    // Local OpenAI-compatible servers need no key, but the SDK insists on one.
    apiKey: config.apiKey ?? 'not-needed',
    baseURL: config.baseUrl ?? null,
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    fetch: httpFetch,
  });
}

/**
 * What a failed SDK call means for askbase. The SDK's error is kept as the cause, for the
 * logs; its text never reaches a response, since it may echo the request or describe the
 * account.
 */
export function toLlmError(error: unknown, logger: Logger): LlmError {
  if (error instanceof LlmError) return error;
  const cause = { cause: error };
  if (error instanceof OpenAI.APIUserAbortError) return new LlmCallAbortedError(cause);
  logger.warn({ err: error }, 'LLM call failed');
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmTimeoutError('the LLM did not answer in time', cause);
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new LlmUnavailableError('the LLM could not be reached', cause);
  }
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    const retryAfter = retryAfterSeconds(error.headers as Headers | undefined);
    if (error.status === 429) {
      return new LlmUnavailableError('the LLM is rate limiting requests', {
        ...cause,
        retryAfterSeconds: retryAfter,
      });
    }
    if (error.status >= 500) {
      return new LlmUnavailableError(`the LLM failed (status ${error.status})`, {
        ...cause,
        retryAfterSeconds: retryAfter,
      });
    }
    return new LlmBadResponseError(`the LLM rejected the request (status ${error.status})`, cause);
  }
  if (isConnectionLost(error)) {
    return new LlmUnavailableError('the connection to the LLM broke off mid-answer', cause);
  }
  return new LlmBadResponseError('the LLM returned a malformed response', cause);
}

/**
 * Reads an SDK stream to its end, handing each chunk to `onChunk`. Once streaming,
 * `silenceMs` (OPENAI_TIMEOUT_MS) bounds the silence between chunks, as the SDK's own timeout
 * covers the request up to the response headers only: an upstream that stalls mid-answer
 * cannot hold the call open forever.
 */
export async function readChunks<T>(
  stream: Stream<T>,
  { silenceMs, signal }: { silenceMs: number; signal: AbortSignal | undefined },
  onChunk: (chunk: T) => void,
): Promise<void> {
  let stalled = false;
  const stallTimer = setTimeout(() => {
    stalled = true;
    stream.controller.abort();
  }, silenceMs);
  try {
    for await (const chunk of stream) {
      stallTimer.refresh();
      onChunk(chunk);
    }
  } finally {
    clearTimeout(stallTimer);
  }
  // An aborted SDK stream ends quietly rather than throwing.
  if (signal?.aborted) throw new LlmCallAbortedError();
  if (stalled) throw new LlmTimeoutError('the LLM stopped sending its answer');
}

/** fetch (Node's, and httpFetch) reports a response body cut short as `TypeError: terminated`. */
function isConnectionLost(error: unknown): boolean {
  return error instanceof TypeError && error.message === 'terminated';
}

export function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Of the SDK's usage, what askbase keeps. */
export function toUsage(usage: OpenAI.CompletionUsage | null | undefined) {
  return usage
    ? {
        promptTokens: usage.prompt_tokens,
        completionTokens: usage.completion_tokens,
        totalTokens: usage.total_tokens,
        cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens,
        reasoningTokens: usage.completion_tokens_details?.reasoning_tokens,
      }
    : null;
}
