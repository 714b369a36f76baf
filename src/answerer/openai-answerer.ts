import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/index.js';
import type { OpenAIConfig } from '../config.js';
import { LlmBadResponseError } from '../errors.js';
import type { Answer, ChatMessage, Usage } from '../domain/question-answer.js';
import type { Logger } from '../logger.js';
import type { Answerer } from '../qa/ports.js';
import { storableText } from '../domain/storable-text.js';
import { readChunks, toLlmError, toUsage } from './openai-client.js';

/** Chat Completions, so any OpenAI-compatible server (vLLM, Ollama, llama.cpp, Azure…) works. */
export class OpenAIAnswerer implements Answerer {
  constructor(
    private readonly client: OpenAI,
    private readonly config: OpenAIConfig,
    private readonly logger: Logger,
  ) {}

  async answer(question: string, signal?: AbortSignal, thread?: ChatMessage[]): Promise<Answer> {
    const started = performance.now();
    try {
      const completion = await this.client.chat.completions.create(
        { model: this.config.model, messages: this.messages(question, thread) },
        { signal },
      );
      const choice = completion.choices?.[0];
      return {
        text: nonEmpty(choice?.message?.content),
        model: typeof completion.model === 'string' ? completion.model : this.config.model,
        usage: toUsage(completion.usage),
        latencyMs: Math.round(performance.now() - started),
        finishReason: choice?.finish_reason ?? null,
      };
    } catch (error) {
      throw toLlmError(error, this.logger);
    }
  }

  async answerStream(
    question: string,
    onDelta: (text: string) => void,
    signal?: AbortSignal,
    thread?: ChatMessage[],
  ): Promise<Answer> {
    const started = performance.now();
    try {
      // The SDK's timeout and retries cover the request up to the response headers only.
      const stream = await this.client.chat.completions.create(
        {
          model: this.config.model,
          messages: this.messages(question, thread),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal },
      );
      let text = '';
      let model = this.config.model;
      let usage: Usage | null = null;
      let finishReason: string | null = null;
      let ttftMs: number | null = null;
      await readChunks(stream, { silenceMs: this.config.timeoutMs, signal }, (chunk) => {
        if (typeof chunk.model === 'string' && chunk.model !== '') model = chunk.model;
        if (chunk.usage) usage = toUsage(chunk.usage);
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const raw = choice?.delta?.content;
        if (typeof raw === 'string' && raw !== '') {
          const piece = storableText(raw);
          ttftMs ??= Math.round(performance.now() - started);
          text += piece;
          onDelta(piece);
        }
      });
      return {
        text: nonEmpty(text),
        model,
        usage,
        latencyMs: Math.round(performance.now() - started),
        finishReason,
        ttftMs,
      };
    } catch (error) {
      throw toLlmError(error, this.logger);
    }
  }

  /** SYSTEM_PROMPT, unless the conversation followed up brings instructions of its own. */
  private messages(question: string, thread: ChatMessage[] = []): ChatCompletionMessageParam[] {
    const instructed = thread.some((m) => m.role === 'system' || m.role === 'developer');
    return [
      ...(this.config.systemPrompt && !instructed
        ? [{ role: 'system' as const, content: this.config.systemPrompt }]
        : []),
      ...(thread as unknown as ChatCompletionMessageParam[]),
      { role: 'user' as const, content: question },
    ];
  }
}

function nonEmpty(text: string | null | undefined): string {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new LlmBadResponseError('the LLM returned an empty answer');
  }
  return storableText(text);
}
