import { storableText } from '../domain/storable-text.js';

type Json = Record<string, unknown>;

/**
 * A chat turn's response is stored without its first choice's text, which is the row's
 * `answer` already: a conversation's text is kept once, not twice. Reading it back puts the
 * text where it was (`withAnswerText`). A response whose text is not the answer's (there is
 * none, or it differs) is stored whole.
 */
export function withoutAnswerText(response: Json, answer: string | null): Json {
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

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
