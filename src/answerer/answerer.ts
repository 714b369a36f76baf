import type { Answer } from '../qa/question-answer.js';

/**
 * Answers one question. Implementations throw LlmUnavailableError, LlmTimeoutError or
 * LlmBadResponseError (from src/errors.ts) and nothing else.
 */
export interface Answerer {
  answer(question: string): Promise<Answer>;
  /**
   * The same answer, with each piece of its text handed to `onDelta` as the LLM produces it;
   * the pieces joined are the returned text. `onDelta` must not throw.
   */
  answerStream(question: string, onDelta: (text: string) => void): Promise<Answer>;
}
