import { InvalidRequestError } from '../errors.js';
import type { Json } from './completion.js';
import { contentText, isMessage, isObject } from './response-items.js';

/**
 * A Responses request as Chat Completions, and a completion back as a Response, for an
 * upstream that serves only /v1/chat/completions (as Ollama, vLLM and LM Studio long did).
 * What has no counterpart in Chat Completions is refused, never dropped in silence: hosted
 * tools, background runs, stored prompts and encrypted reasoning (docs/openai-gateway.md).
 */

/** Request fields the translation reads; every other field is forwarded as written. */
const TRANSLATED = new Set([
  'input',
  'instructions',
  'previous_response_id',
  'max_output_tokens',
  'text',
  'reasoning',
  'tools',
  'tool_choice',
  'store',
  'metadata',
  'include',
  'truncation',
  'stream',
  'stream_options',
  'background',
  'prompt',
  'conversation',
]);

/** Throws InvalidRequestError for what Chat Completions cannot do. */
export function checkTranslatable(body: Json): void {
  const refuse = (what: string, param: string) => {
    throw new InvalidRequestError(
      `${what} cannot be translated to Chat Completions, the only API this LLM serves (see RESPONSES_API)`,
      param,
    );
  };
  if (body.prompt !== undefined && body.prompt !== null) refuse('a stored prompt', 'prompt');
  const include = Array.isArray(body.include) ? body.include : [];
  if (include.includes('reasoning.encrypted_content')) {
    refuse('encrypted reasoning', 'include');
  }
  for (const tool of Array.isArray(body.tools) ? body.tools : []) {
    if (!isObject(tool) || tool.type !== 'function') {
      refuse(`a ${isObject(tool) ? String(tool.type) : 'malformed'} tool`, 'tools');
    }
  }
  const choice = body.tool_choice;
  if (isObject(choice) && choice.type !== 'function') {
    refuse(`tool_choice of type ${String(choice.type)}`, 'tool_choice');
  }
  const format = isObject(body.text) && isObject(body.text.format) ? body.text.format : undefined;
  if (format && !['text', 'json_object', 'json_schema'].includes(String(format.type))) {
    refuse(`text.format of type ${String(format.type)}`, 'text.format');
  }
}

/**
 * The chat request for `items` (the whole conversation, earlier turns included) and the
 * request's other fields.
 */
export function toChatRequest(body: Json, items: Json[]): Json {
  checkTranslatable(body);
  const chat: Json = {};
  for (const [field, value] of Object.entries(body)) {
    if (!TRANSLATED.has(field)) chat[field] = value;
  }
  const messages = toMessages(items);
  if (typeof body.instructions === 'string' && body.instructions !== '') {
    messages.unshift({ role: 'system', content: body.instructions });
  }
  chat.messages = messages;
  // max_tokens, not max_completion_tokens: the servers that need translating know it.
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens;
  const text = isObject(body.text) ? body.text : {};
  if (isObject(text.format)) {
    const { type, ...schema } = text.format;
    if (type === 'json_object') chat.response_format = { type: 'json_object' };
    if (type === 'json_schema') chat.response_format = { type: 'json_schema', json_schema: schema };
  }
  if (typeof text.verbosity === 'string') chat.verbosity = text.verbosity;
  if (isObject(body.reasoning) && typeof body.reasoning.effort === 'string') {
    chat.reasoning_effort = body.reasoning.effort;
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    chat.tools = body.tools.filter(isObject).map((tool) => {
      const fn: Json = { name: tool.name };
      for (const field of ['description', 'parameters', 'strict'] as const) {
        if (tool[field] !== undefined && tool[field] !== null) fn[field] = tool[field];
      }
      return { type: 'function', function: fn };
    });
  }
  const choice = body.tool_choice;
  if (typeof choice === 'string') chat.tool_choice = choice;
  if (isObject(choice)) chat.tool_choice = { type: 'function', function: { name: choice.name } };
  return chat;
}

/**
 * Items as chat messages: a model's message and the calls it made after it are one assistant
 * message; each call's output a tool message; reasoning is left out (Chat Completions takes
 * none back).
 */
function toMessages(items: Json[]): Json[] {
  const messages: Json[] = [];
  let assistant: Json | undefined;
  for (const item of items) {
    if (isMessage(item)) {
      const role = item.role === 'developer' ? 'system' : String(item.role);
      const content = toContent(item.content);
      assistant = role === 'assistant' ? { role, content } : undefined;
      messages.push(assistant ?? { role, content });
    } else if (item.type === 'function_call') {
      const call = {
        id: item.call_id,
        type: 'function',
        function: { name: item.name, arguments: item.arguments },
      };
      if (!assistant) {
        assistant = { role: 'assistant', content: null };
        messages.push(assistant);
      }
      assistant.tool_calls = [...((assistant.tool_calls as unknown[] | undefined) ?? []), call];
    } else if (item.type === 'function_call_output') {
      assistant = undefined;
      messages.push({
        role: 'tool',
        tool_call_id: item.call_id,
        content: typeof item.output === 'string' ? item.output : contentText(item.output),
      });
    } else if (item.type !== 'reasoning') {
      throw new InvalidRequestError(
        `an input item of type ${String(item.type)} cannot be translated to Chat Completions, the only API this LLM serves (see RESPONSES_API)`,
        'input',
      );
    }
  }
  return messages;
}

/** A message's content for Chat Completions: text as a string, images as image parts. */
function toContent(content: unknown): unknown {
  if (!Array.isArray(content)) return typeof content === 'string' ? content : '';
  const parts = content.filter(isObject);
  if (parts.every((part) => part.type !== 'input_image')) return contentText(parts);
  return parts.map((part) => {
    if (part.type === 'input_image') {
      return {
        type: 'image_url',
        image_url: {
          url: part.image_url,
          ...(typeof part.detail === 'string' && { detail: part.detail }),
        },
      };
    }
    if (typeof part.text === 'string') return { type: 'text', text: part.text };
    throw new InvalidRequestError(
      `a content part of type ${String(part.type)} cannot be translated to Chat Completions`,
      'input',
    );
  });
}

/** A Responses usage object from a chat completion's usage. */
export function toResponseUsage(usage: unknown): Json | null {
  if (!isObject(usage)) return null;
  const input = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0;
  const output = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0;
  const cached = isObject(usage.prompt_tokens_details)
    ? usage.prompt_tokens_details.cached_tokens
    : undefined;
  const reasoning = isObject(usage.completion_tokens_details)
    ? usage.completion_tokens_details.reasoning_tokens
    : undefined;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: typeof cached === 'number' ? cached : 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: typeof reasoning === 'number' ? reasoning : 0 },
    total_tokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : input + output,
  };
}

/** The ids of a translated response's output items: from its own id, the same both ways. */
export function outputItemId(responseId: string, kind: 'msg' | 'fc', index: number): string {
  return `${kind}_${responseId.replace(/^resp_/, '')}_${index}`;
}

/** A chat completion's first choice as a Response's output items. */
export function toOutputItems(completion: Json, responseId: string): Json[] {
  const choice = Array.isArray(completion.choices) ? (completion.choices[0] as unknown) : undefined;
  const message = isObject(choice) && isObject(choice.message) ? choice.message : {};
  const items: Json[] = [];
  const text = typeof message.content === 'string' ? message.content : '';
  const refusal = typeof message.refusal === 'string' ? message.refusal : '';
  if (text !== '' || refusal !== '') {
    items.push({
      id: outputItemId(responseId, 'msg', 0),
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [
        ...(text !== '' ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : []),
        ...(refusal !== '' ? [{ type: 'refusal', refusal }] : []),
      ],
    });
  }
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : []) {
    const fn = isObject(call.function) ? call.function : {};
    items.push({
      id: outputItemId(responseId, 'fc', items.length),
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: fn.name,
      arguments: typeof fn.arguments === 'string' ? fn.arguments : '',
    });
  }
  return items;
}

/** The status and its details of a response whose completion stopped for `finishReason`. */
export function statusOf(finishReason: unknown): Json {
  if (finishReason === 'length') {
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  }
  if (finishReason === 'content_filter') {
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  }
  return { status: 'completed', incomplete_details: null };
}

/** A chat completion as the Response `shell` (see responseShell) completed. */
export function toResponse(completion: Json, shell: Json): Json {
  const id = String(shell.id);
  const choice = Array.isArray(completion.choices) ? (completion.choices[0] as unknown) : undefined;
  return {
    ...shell,
    ...(typeof completion.model === 'string' && { model: completion.model }),
    ...statusOf(isObject(choice) ? choice.finish_reason : undefined),
    output: toOutputItems(completion, id),
    usage: toResponseUsage(completion.usage),
  };
}
