import type { Answer } from '../qa/question-answer.js';

/**
 * Answers one question. Implementations throw LlmUnavailableError, LlmTimeoutError or
 * LlmBadResponseError (from src/errors.ts) and nothing else.
 */
export interface Answerer {
  /** `signal` ends the call (and its retries) early; the caller decides what that means. */
  answer(question: string, signal?: AbortSignal): Promise<Answer>;
  /**
   * The same answer, with each piece of its text handed to `onDelta` as the LLM produces it;
   * the pieces joined are the returned text. `onDelta` must not throw.
   */
  answerStream(
    question: string,
    onDelta: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<Answer>;
}
