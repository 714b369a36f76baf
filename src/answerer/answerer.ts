import type { Answer } from '../qa/question-answer.js';

/**
 * Answers one question. Implementations throw LlmUnavailableError, LlmTimeoutError or
 * LlmBadResponseError (from src/errors.ts) and nothing else.
 */
export interface Answerer {
  answer(question: string): Promise<Answer>;
}
