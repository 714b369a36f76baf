import { storableText } from '../domain/storable-text.js';

type Json = Record<string, unknown>;

/**
 * A chat turn's response is stored without its first choice's text, which is the row's
 * `answer` already: a conversation's text is kept once, not twice. Reading it back puts the
 * text where it was (`withAnswerText`). A response whose text is not the answer's (there is
 * none, or it differs) is stored whole.
 */
export function withoutAnswerText(response: Json, answer: string | null): Json {
  if (response.object === 'response') return withoutOutputText(response, answer);
  const choices = response.choices;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const message = isObject(first) ? first.message : undefined;
  if (
    !Array.isArray(choices) ||
    !isObject(first) ||
    !isObject(message) ||
    typeof message.content !== 'string' ||
    answer === null ||
    storableText(message.content) !== answer
  ) {
    return response;
  }
  const rest: Json = { ...message };
  delete rest.content;
  return {
    ...response,
    choices: [{ ...first, message: rest }, ...(choices.slice(1) as unknown[])],
  };
}

/** The stored response with its first choice's text back from the row's answer. */
export function withAnswerText(response: Json, answer: string | null): Json {
  if (response.object === 'response') return withOutputText(response, answer);
  const choices = response.choices;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const message = isObject(first) ? first.message : undefined;
  if (!Array.isArray(choices) || !isObject(first) || !isObject(message) || 'content' in message) {
    return response;
  }
  const content = answer === null || answer === '' ? null : answer;
  return {
    ...response,
    choices: [{ ...first, message: { ...message, content } }, ...(choices.slice(1) as unknown[])],
  };
}

/**
 * A Response (POST /v1/responses) keeps its text in the output_text part of its message
 * item: when that one part is the whole answer, it is stored without its text.
 */
function withoutOutputText(response: Json, answer: string | null): Json {
  const found = onlyTextPart(response);
  if (!found || answer === null || typeof found.part.text !== 'string') return response;
  if (storableText(found.part.text) !== answer) return response;
  const part: Json = { ...found.part };
  delete part.text;
  return found.with(part);
}

function withOutputText(response: Json, answer: string | null): Json {
  const found = onlyTextPart(response);
  if (!found || 'text' in found.part) return response;
  return found.with({ ...found.part, text: answer ?? '' });
}

/** The one output_text part of a Response's one message item, and how to replace it. */
function onlyTextPart(response: Json): { part: Json; with: (part: Json) => Json } | undefined {
  const output = Array.isArray(response.output) ? (response.output as unknown[]) : [];
  const messages = output.filter((item) => isObject(item) && item.type === 'message');
  const message = messages[0];
  if (messages.length !== 1 || !isObject(message) || !Array.isArray(message.content)) {
    return undefined;
  }
  const content = message.content as unknown[];
  const texts = content.filter((part) => isObject(part) && part.type === 'output_text');
  const part = texts[0];
  if (texts.length !== 1 || !isObject(part)) return undefined;
  return {
    part,
    with: (replaced) => ({
      ...response,
      output: output.map((item) =>
        item === message
          ? { ...message, content: content.map((p) => (p === part ? replaced : p)) }
          : item,
      ),
    }),
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
