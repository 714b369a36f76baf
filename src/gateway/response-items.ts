import type { Json } from './completion.js';

/**
 * The parts of OpenAI's Responses API askbase reads, whichever way the upstream is reached:
 * the input as a list of items, the text of items and responses, and the usage in askbase's
 * terms. An upstream's or a client's object is read, never trusted.
 */

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A request's `input` as a list of items: a string is one user message. */
export function inputItemsOf(input: unknown): Json[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return Array.isArray(input) ? input.filter(isObject) : [];
}

/** The text of a message item's content: a string, or its text parts joined. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isObject)
    .map((part) => (typeof part.text === 'string' && isTextPart(part.type) ? part.text : ''))
    .join('');
}

function isTextPart(type: unknown): boolean {
  return type === 'input_text' || type === 'output_text' || type === 'text';
}

/** Whether an item is a message (`type: "message"`, or a role with no type). */
export function isMessage(item: Json): boolean {
  return item.type === 'message' || (item.type === undefined && typeof item.role === 'string');
}

/** What a person looks for a response by: its last user message's text, else its last item's. */
export function questionTextOf(items: Json[]): string {
  const user = items.findLast((item) => isMessage(item) && item.role === 'user');
  const last = user ?? items.at(-1);
  if (!last) return '';
  if (isMessage(last)) return contentText(last.content);
  if (last.type === 'function_call_output') return outputText(last.output);
  return '';
}

function outputText(output: unknown): string {
  return typeof output === 'string' ? output : contentText(output);
}

/** A response's answer: the text of its assistant messages. */
export function responseText(response: Json): string {
  const output = Array.isArray(response.output) ? response.output.filter(isObject) : [];
  return output
    .filter((item) => item.type === 'message')
    .map((item) => contentText(item.content))
    .join('');
}

/**
 * Why a response stopped, in the words the other exchanges use (`stop`, `length`,
 * `tool_calls`, `content_filter`), so that filters and stats read every kind alike.
 */
export function finishReasonOfResponse(response: Json): string | null {
  const output = Array.isArray(response.output) ? response.output.filter(isObject) : [];
  if (response.status === 'completed') {
    return output.some((item) => item.type === 'function_call') ? 'tool_calls' : 'stop';
  }
  if (response.status === 'incomplete') {
    const reason = isObject(response.incomplete_details)
      ? response.incomplete_details.reason
      : undefined;
    if (reason === 'max_output_tokens') return 'length';
    return typeof reason === 'string' ? reason : 'incomplete';
  }
  return typeof response.status === 'string' ? response.status : null;
}

/** The listing of GET /v1/responses/{id}/input_items: every item with an id and a type. */
export function listedItem(item: Json, fallbackId: string): Json {
  if (!isMessage(item)) return { ...item, id: typeof item.id === 'string' ? item.id : fallbackId };
  const role = typeof item.role === 'string' ? item.role : 'user';
  return {
    ...item,
    id: typeof item.id === 'string' ? item.id : fallbackId,
    type: 'message',
    role,
    content:
      typeof item.content === 'string'
        ? [{ type: role === 'assistant' ? 'output_text' : 'input_text', text: item.content }]
        : item.content,
  };
}
