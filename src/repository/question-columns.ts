import { type Placeholder, and, eq, or } from 'drizzle-orm';
import { questionAnswers } from '../db/schema.js';
import { INTERRUPTED, type QuestionAnswer } from '../domain/question-answer.js';
import { storableText } from '../domain/storable-text.js';

const t = questionAnswers;

/**
 * The columns a QuestionAnswer is made of, and no others: the search index's are as large as
 * the question and answer together, a chat turn's request and response larger still, and every
 * column read is one more for the driver to describe and parse on every ask and read.
 */
export const columns = {
  id: t.id,
  question: t.question,
  answer: t.answer,
  textStored: t.textStored,
  status: t.status,
  createdAt: t.createdAt,
  answeredAt: t.answeredAt,
  model: t.model,
  promptTokens: t.promptTokens,
  completionTokens: t.completionTokens,
  totalTokens: t.totalTokens,
  cachedPromptTokens: t.cachedPromptTokens,
  reasoningTokens: t.reasoningTokens,
  latencyMs: t.latencyMs,
  ttftMs: t.ttftMs,
  costUsd: t.costUsd,
  keyName: t.keyName,
  cachedFrom: t.cachedFrom,
  kind: t.kind,
  conversationId: t.conversationId,
  parentId: t.parentId,
  finishReason: t.finishReason,
  attempt: t.attempt,
  errorCode: t.errorCode,
  errorMessage: t.errorMessage,
};

export type Row = Pick<typeof questionAnswers.$inferSelect, keyof typeof columns>;

export function toQuestionAnswer(row: Row): QuestionAnswer {
  return {
    id: row.id,
    question: row.question,
    answer: row.answer,
    textStored: row.textStored,
    status: row.status,
    createdAt: row.createdAt,
    answeredAt: row.answeredAt,
    model: row.model,
    usage:
      row.promptTokens !== null && row.completionTokens !== null && row.totalTokens !== null
        ? {
            promptTokens: row.promptTokens,
            completionTokens: row.completionTokens,
            totalTokens: row.totalTokens,
            cachedPromptTokens: row.cachedPromptTokens ?? undefined,
            reasoningTokens: row.reasoningTokens ?? undefined,
          }
        : null,
    latencyMs: row.latencyMs,
    ttftMs: row.ttftMs,
    costUsd: row.costUsd,
    keyName: row.keyName,
    cachedFrom: row.cachedFrom,
    kind: row.kind,
    // A chat exchange or a response is a conversation of its own until a turn follows it.
    conversationId: row.conversationId ?? (row.kind === 'ask' ? null : row.id),
    parentId: row.parentId,
    finishReason: row.finishReason,
    attempt: row.attempt,
    error: row.errorCode !== null ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
  };
}

/**
 * The row `id` while attempt `attempt` owns it and has no outcome yet: pending, or failed as
 * interrupted by crash recovery (a late outcome of that attempt is still the truth).
 */
export function ownedOpenRow(id: number | Placeholder, attempt: number | Placeholder) {
  return and(
    eq(t.id, id),
    eq(t.attempt, attempt),
    or(eq(t.status, 'pending'), and(eq(t.status, 'failed'), eq(t.errorCode, INTERRUPTED))),
  );
}

/**
 * JSON for a jsonb column: PostgreSQL refuses NUL and lone surrogates in JSON text, and a
 * request or answer already paid for must not be refused for them. Both become U+FFFD. They
 * are rare, and JSON.stringify writes both as escapes, so only text that has one is walked.
 */
export function storableJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (!UNSTORABLE_ESCAPE.test(text)) return text;
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'string' ? storableText(item) : item,
  );
}

/** `\u0000`, or a surrogate written as an escape (JSON.stringify escapes only lone ones). */
const UNSTORABLE_ESCAPE = /\\u(0000|d[89a-f])/i;
