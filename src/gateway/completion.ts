import type { ChatMessage } from '../domain/question-answer.js';

/** A JSON object as the upstream sent it; askbase reads what it needs and passes on the rest. */
export type Json = Record<string, unknown>;

interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface ChoiceState {
  index: number;
  content: string | null;
  refusal: string | null;
  toolCalls: Map<number, { id?: string; type: string; name: string; arguments: string }>;
  finishReason: string | null;
  logprobs: unknown;
}

/**
 * Puts a streamed answer's chunks together into the `chat.completion` object the same request
 * would have had without streaming: what is stored and read back, whichever way it was asked.
 */
export class CompletionAssembler {
  private first: Json | undefined;
  private readonly choices = new Map<number, ChoiceState>();
  private usage: unknown = null;

  add(chunk: Json): void {
    this.first ??= chunk;
    if (chunk.usage) this.usage = chunk.usage;
    for (const raw of Array.isArray(chunk.choices) ? (chunk.choices as unknown[]) : []) {
      // An upstream's chunk is read, never trusted: what is not an object is passed over.
      if (!isObject(raw)) continue;
      const index = typeof raw.index === 'number' ? raw.index : 0;
      let choice = this.choices.get(index);
      if (!choice) {
        choice = {
          index,
          content: null,
          refusal: null,
          toolCalls: new Map(),
          finishReason: null,
          logprobs: null,
        };
        this.choices.set(index, choice);
      }
      const delta = isObject(raw.delta) ? raw.delta : {};
      if (typeof delta.content === 'string')
        choice.content = (choice.content ?? '') + delta.content;
      if (typeof delta.refusal === 'string')
        choice.refusal = (choice.refusal ?? '') + delta.refusal;
      for (const call of Array.isArray(delta.tool_calls)
        ? (delta.tool_calls as unknown[]).filter(isObject).map((c) => c as ToolCallDelta)
        : []) {
        const at = call.index ?? choice.toolCalls.size;
        const known = choice.toolCalls.get(at) ?? { type: 'function', name: '', arguments: '' };
        if (call.id) known.id = call.id;
        if (call.type) known.type = call.type;
        if (call.function?.name) known.name += call.function.name;
        if (call.function?.arguments) known.arguments += call.function.arguments;
        choice.toolCalls.set(at, known);
      }
      if (typeof raw.finish_reason === 'string') choice.finishReason = raw.finish_reason;
      if (raw.logprobs) choice.logprobs = raw.logprobs;
    }
  }

  /** Whether any chunk came at all. */
  get started(): boolean {
    return this.first !== undefined;
  }

  result(): Json {
    const first = this.first ?? {};
    return {
      id: first.id,
      object: 'chat.completion',
      created: first.created,
      model: first.model,
      ...(first.system_fingerprint !== undefined && {
        system_fingerprint: first.system_fingerprint,
      }),
      ...(first.service_tier !== undefined && { service_tier: first.service_tier }),
      choices: [...this.choices.values()]
        .sort((a, b) => a.index - b.index)
        .map((choice) => ({
          index: choice.index,
          message: {
            role: 'assistant',
            content: choice.content,
            refusal: choice.refusal,
            ...(choice.toolCalls.size > 0 && {
              tool_calls: [...choice.toolCalls.entries()]
                .sort(([a], [b]) => a - b)
                .map(([, call]) => ({
                  id: call.id,
                  type: call.type,
                  function: { name: call.name, arguments: call.arguments },
                })),
            }),
          },
          logprobs: choice.logprobs,
          finish_reason: choice.finishReason,
        })),
      usage: this.usage,
    };
  }
}

/** The first choice's message of a completion, as the next turn will send it back. */
export function answerMessageOf(completion: Json): ChatMessage {
  const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
  const message = (choices[0]?.message ?? {}) as Json;
  return {
    role: 'assistant',
    content: message.content ?? null,
    ...(Array.isArray(message.tool_calls) && { tool_calls: message.tool_calls }),
  };
}

export function finishReasonOf(completion: Json): string | null {
  const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
  const reason = choices[0]?.finish_reason;
  return typeof reason === 'string' ? reason : null;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
