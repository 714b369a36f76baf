import type { Json } from './completion.js';
import { isObject } from './response-items.js';
import { outputItemId, toResponse } from './responses-translation.js';

/** Everything a Response says before it has output; the request's settings echoed. */
export function responseShell(id: string, body: Json, createdAt: number): Json {
  const given = (field: string, otherwise: unknown) => body[field] ?? otherwise;
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: given('instructions', null),
    max_output_tokens: given('max_output_tokens', null),
    model: body.model,
    output: [],
    parallel_tool_calls: given('parallel_tool_calls', true),
    previous_response_id: given('previous_response_id', null),
    reasoning: given('reasoning', { effort: null, summary: null }),
    store: given('store', true),
    temperature: given('temperature', null),
    text: given('text', { format: { type: 'text' } }),
    tool_choice: given('tool_choice', 'auto'),
    tools: given('tools', []),
    top_p: given('top_p', null),
    truncation: given('truncation', 'disabled'),
    usage: null,
    user: given('user', null),
    metadata: given('metadata', {}),
  };
}

interface OpenText {
  index: number;
  id: string;
  text: string;
}

interface OpenCall {
  index: number;
  id: string;
  callId: unknown;
  name: string;
  arguments: string;
}

/**
 * A chat stream's chunks as the Responses API's typed events, in OpenAI's order: the
 * response created, each output item added, its text or arguments in deltas, done, and the
 * response completed. Item ids and output indices match the Response that `finish` builds
 * from the whole completion (toResponse), so a client sees one answer whichever way it reads.
 */
export class TranslatedEvents {
  private sequence = 0;
  private outputs = 0;
  private text: OpenText | undefined;
  private readonly calls = new Map<number, OpenCall>();

  constructor(
    private readonly shell: Json,
    private readonly emit: (event: Json) => void,
  ) {}

  start(): void {
    this.send('response.created', { response: this.shell });
    this.send('response.in_progress', { response: this.shell });
  }

  chunk(chunk: Json): void {
    const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as unknown) : undefined;
    const delta = isObject(choice) && isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content !== '') this.addText(delta.content);
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isObject) : []) {
      this.addCall(call);
    }
  }

  /** Closes what is open, then says the response is complete (or incomplete). */
  finish(completion: Json): Json {
    this.closeText();
    for (const call of this.calls.values()) this.closeCall(call);
    this.calls.clear();
    const response = toResponse(completion, this.shell);
    this.send(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', {
      response,
    });
    return response;
  }

  /** The response failed: what OpenAI sends instead of `response.completed`. */
  fail(error: { code: string; message: string }): void {
    this.send('response.failed', {
      response: { ...this.shell, status: 'failed', error },
    });
  }

  private addText(piece: string): void {
    if (!this.text) {
      // A message is the first output item, as toOutputItems puts it.
      const index = this.outputs++;
      const id = outputItemId(String(this.shell.id), 'msg', index);
      this.text = { index, id, text: '' };
      this.send('response.output_item.added', {
        output_index: index,
        item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      });
      this.send('response.content_part.added', {
        item_id: id,
        output_index: index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
    }
    this.text.text += piece;
    this.send('response.output_text.delta', {
      item_id: this.text.id,
      output_index: this.text.index,
      content_index: 0,
      delta: piece,
      logprobs: [],
    });
  }

  private closeText(): void {
    const open = this.text;
    if (!open) return;
    this.text = undefined;
    const part = { type: 'output_text', text: open.text, annotations: [] };
    const at = { item_id: open.id, output_index: open.index, content_index: 0 };
    this.send('response.output_text.done', { ...at, text: open.text, logprobs: [] });
    this.send('response.content_part.done', { ...at, part });
    this.send('response.output_item.done', {
      output_index: open.index,
      item: {
        id: open.id,
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ ...part, logprobs: [] }],
      },
    });
  }

  private addCall(delta: Json): void {
    const at = typeof delta.index === 'number' ? delta.index : this.calls.size;
    const fn = isObject(delta.function) ? delta.function : {};
    let call = this.calls.get(at);
    if (!call) {
      // Items come in the order toOutputItems gives them: the message, then each call.
      this.closeText();
      const index = this.outputs++;
      call = {
        index,
        id: outputItemId(String(this.shell.id), 'fc', index),
        callId: delta.id,
        name: typeof fn.name === 'string' ? fn.name : '',
        arguments: '',
      };
      this.calls.set(at, call);
      this.send('response.output_item.added', {
        output_index: index,
        item: this.callItem(call, 'in_progress'),
      });
    } else if (typeof fn.name === 'string') {
      call.name += fn.name;
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      call.arguments += fn.arguments;
      this.send('response.function_call_arguments.delta', {
        item_id: call.id,
        output_index: call.index,
        delta: fn.arguments,
      });
    }
  }

  private closeCall(call: OpenCall): void {
    this.send('response.function_call_arguments.done', {
      item_id: call.id,
      output_index: call.index,
      name: call.name,
      arguments: call.arguments,
    });
    this.send('response.output_item.done', {
      output_index: call.index,
      item: this.callItem(call, 'completed'),
    });
  }

  private callItem(call: OpenCall, status: string): Json {
    return {
      id: call.id,
      type: 'function_call',
      status,
      call_id: call.callId,
      name: call.name,
      arguments: status === 'completed' ? call.arguments : '',
    };
  }

  private send(type: string, fields: Json): void {
    this.emit({ type, sequence_number: this.sequence++, ...fields });
  }
}
