import OpenAI from 'openai';
import type { ChatCompletionMessageParam, CompletionUsage } from 'openai/resources/index.js';
import type { OpenAIConfig } from '../config.js';
import {
  LlmBadResponseError,
  LlmCallAbortedError,
  LlmError,
  LlmTimeoutError,
  LlmUnavailableError,
} from '../errors.js';
import type { Answer, Usage } from '../domain/question-answer.js';
import type { Logger } from '../logger.js';
import type { Answerer } from '../qa/ports.js';
import { httpFetch } from './http-fetch.js';

/** Chat Completions, so any OpenAI-compatible server (vLLM, Ollama, llama.cpp, Azure…) works. */
export class OpenAIAnswerer implements Answerer {
  private readonly client: OpenAI;

  constructor(
    private readonly config: OpenAIConfig,
    private readonly logger: Logger,
  ) {
    this.client = new OpenAI({
      // Local OpenAI-compatible servers need no key, but the SDK insists on one.
      apiKey: config.apiKey ?? 'not-needed',
      baseURL: config.baseUrl ?? null,
      timeout: config.timeoutMs,
      maxRetries: config.maxRetries,
      fetch: httpFetch,
    });
  }

  async answer(question: string, signal?: AbortSignal): Promise<Answer> {
    const started = performance.now();
    try {
      const completion = await this.client.chat.completions.create(
        { model: this.config.model, messages: this.messages(question) },
        { signal },
      );
      const text = completion.choices?.[0]?.message?.content;
      return {
        text: nonEmpty(text),
        model: typeof completion.model === 'string' ? completion.model : this.config.model,
        usage: toUsage(completion.usage),
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      throw this.toLlmError(error);
    }
  }

  async answerStream(
    question: string,
    onDelta: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<Answer> {
    const started = performance.now();
    try {
      // The SDK's timeout and retries cover the request up to the response headers only.
      const stream = await this.client.chat.completions.create(
        {
          model: this.config.model,
          messages: this.messages(question),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal },
      );
      // Once streaming, OPENAI_TIMEOUT_MS bounds the silence between chunks instead, so an
      // upstream that stalls mid-answer cannot hold the ask open forever.
      let stalled = false;
      const stallTimer = setTimeout(() => {
        stalled = true;
        stream.controller.abort();
      }, this.config.timeoutMs);
      let text = '';
      let model = this.config.model;
      let usage: Usage | null = null;
      try {
        for await (const chunk of stream) {
          stallTimer.refresh();
          if (typeof chunk.model === 'string' && chunk.model !== '') model = chunk.model;
          if (chunk.usage) usage = toUsage(chunk.usage);
          const raw = chunk.choices?.[0]?.delta?.content;
          if (typeof raw === 'string' && raw !== '') {
            const piece = storable(raw);
            text += piece;
            onDelta(piece);
          }
        }
      } finally {
        clearTimeout(stallTimer);
      }
      // An aborted SDK stream ends quietly rather than throwing.
      if (signal?.aborted) throw new LlmCallAbortedError();
      if (stalled) throw new LlmTimeoutError('the LLM stopped sending its answer');
      return {
        text: nonEmpty(text),
        model,
        usage,
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      throw this.toLlmError(error);
    }
  }

  private messages(question: string): ChatCompletionMessageParam[] {
    return [
      ...(this.config.systemPrompt
        ? [{ role: 'system' as const, content: this.config.systemPrompt }]
        : []),
      { role: 'user' as const, content: question },
    ];
  }

  private toLlmError(error: unknown): LlmError {
    if (error instanceof LlmError) return error;
    // The SDK's error is kept as the cause, for the logs; its text never reaches a response.
    const cause = { cause: error };
    if (error instanceof OpenAI.APIUserAbortError) return new LlmCallAbortedError(cause);
    // Upstream text goes to the log only: it may echo the request or describe the account.
    this.logger.warn({ err: error }, 'LLM call failed');
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
      return new LlmBadResponseError(
        `the LLM rejected the request (status ${error.status})`,
        cause,
      );
    }
    if (isConnectionLost(error)) {
      return new LlmUnavailableError('the connection to the LLM broke off mid-answer', cause);
    }
    return new LlmBadResponseError('the LLM returned a malformed response', cause);
  }
}

function nonEmpty(text: string | null | undefined): string {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new LlmBadResponseError('the LLM returned an empty answer');
  }
  return storable(text);
}

/**
 * PostgreSQL text cannot hold NUL; an answer with one would be refused forever and never
 * stored. It becomes U+FFFD, the replacement character, and the rest is kept as given.
 */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

function toUsage(usage: CompletionUsage | null | undefined): Usage | null {
  return usage
    ? {
        promptTokens: usage.prompt_tokens,
        completionTokens: usage.completion_tokens,
        totalTokens: usage.total_tokens,
        cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens,
      }
    : null;
}

/** fetch (Node's, and httpFetch) reports a response body cut short as `TypeError: terminated`. */
function isConnectionLost(error: unknown): boolean {
  return error instanceof TypeError && error.message === 'terminated';
}

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
