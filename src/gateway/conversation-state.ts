import { createHash } from 'node:crypto';
import type { ChatMessage } from '../domain/question-answer.js';

/**
 * How a chat turn is recognised as the next turn of a stored one, with no change to the
 * client. OpenAI clients send the whole history each time; after a stored turn, the next
 * request's messages begin with that turn's messages and its answer. Each stored turn keeps a
 * digest of exactly that (its state); a request offers the digest of each of its prefixes that
 * ends in an assistant message, and the longest one that matches a stored turn is its parent.
 *
 * The digests chain (each is the digest of the one before and one message), so the digests of
 * every prefix cost one pass over the messages. They begin with the API key's name: one key's
 * client never continues another's conversation.
 */
export class ConversationState {
  private constructor(
    /** After each message: digests[i] covers messages[0..i]. */
    private readonly digests: string[],
    private readonly messages: readonly ChatMessage[],
    private readonly start: string,
  ) {}

  static of(messages: readonly ChatMessage[], keyName: string | undefined): ConversationState {
    const start = digest('askbase-conversation', keyName ?? '');
    const digests: string[] = [];
    let previous = start;
    for (const message of messages) {
      previous = digest(previous, canonical(message));
      digests.push(previous);
    }
    return new ConversationState(digests, messages, start);
  }

  /**
   * The turns this request may follow, longest prefix first: each prefix that ends in an
   * assistant message is a stored turn's state (`digest`, its request and answer) if that
   * turn's request was the prefix before that message (`request`); `end` is where it ends.
   */
  candidates(): { digest: string; request: string; end: number }[] {
    const found: { digest: string; request: string; end: number }[] = [];
    for (let i = this.messages.length - 2; i >= 0; i -= 1) {
      const at = this.digests[i];
      if (this.messages[i]?.role === 'assistant' && at !== undefined) {
        found.push({ digest: at, request: this.digests[i - 1] ?? this.start, end: i + 1 });
      }
    }
    return found;
  }

  /** The state of these messages alone: how a next turn finds this one before its answer. */
  request(): string {
    return this.digests.at(-1) ?? this.start;
  }

  /** The state after these messages and `answer`: what the turn that asked them stores. */
  after(answer: ChatMessage): string {
    return digest(this.digests.at(-1) ?? this.start, canonical(answer));
  }
}

function digest(previous: string, next: string): string {
  return createHash('sha256').update(previous).update('\n').update(next).digest('base64url');
}

/**
 * What a message means, without what clients and servers write differently: a string or text
 * parts alike, null or no content alike, tool calls by id, name and arguments, and fields the
 * server adds (refusal: null, annotations: []) or the client drops left out.
 */
function canonical(message: ChatMessage): string {
  // Whatever a client sent; only a well-formed call is read by its parts.
  const toolCalls = Array.isArray(message.tool_calls)
    ? (message.tool_calls as unknown[]).map((call) => {
        if (typeof call !== 'object' || call === null) return call;
        const { id, function: fn } = call as { id?: unknown; function?: unknown };
        const { name, arguments: args } =
          typeof fn === 'object' && fn !== null
            ? (fn as { name?: unknown; arguments?: unknown })
            : {};
        return [id ?? null, name ?? null, args ?? null];
      })
    : [];
  return JSON.stringify([
    message.role,
    contentOf(message.content),
    toolCalls,
    message.tool_call_id ?? null,
    message.name ?? null,
  ]);
}

function contentOf(content: unknown): unknown {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && content.every(isTextPart)) {
    return content.map((part) => part.text).join('');
  }
  return content;
}

function isTextPart(part: unknown): part is { type: 'text'; text: string } {
  return (
    typeof part === 'object' &&
    part !== null &&
    (part as { type?: unknown }).type === 'text' &&
    typeof (part as { text?: unknown }).text === 'string'
  );
}

/** A message's text, for display and search: a string, or its text parts joined. */
export function textOf(message: ChatMessage | undefined): string {
  const content = contentOf(message?.content);
  return typeof content === 'string' ? content : '';
}
