import type { QuestionAnswer, Stats } from '../domain/question-answer.js';
import type { QuestionAnswerJson } from './schemas.js';
import type { StatsJson } from './stats-schemas.js';

/** The wire form of a QuestionAnswer (snake_case, ISO-8601 UTC timestamps), as the schema says. */
export function toJson(qa: QuestionAnswer): QuestionAnswerJson {
  return {
    id: qa.id,
    question: qa.question,
    answer: qa.answer,
    status: qa.status,
    created_at: qa.createdAt.toISOString(),
    answered_at: qa.answeredAt?.toISOString() ?? null,
    model: qa.model,
    usage: qa.usage && {
      prompt_tokens: qa.usage.promptTokens,
      completion_tokens: qa.usage.completionTokens,
      total_tokens: qa.usage.totalTokens,
      cached_prompt_tokens: qa.usage.cachedPromptTokens ?? null,
      reasoning_tokens: qa.usage.reasoningTokens ?? null,
    },
    latency_ms: qa.latencyMs,
    ttft_ms: qa.ttftMs,
    kind: qa.kind,
    conversation_id: qa.conversationId,
    parent_id: qa.parentId,
    finish_reason: qa.finishReason,
    cost_usd: qa.costUsd,
    cached_from: qa.cachedFrom,
    error: qa.error,
    key_name: qa.keyName,
    text_stored: qa.textStored,
  };
}

/** The wire form of Stats, as the schema says. */
export function toStatsJson(stats: Stats): StatsJson {
  return {
    asks: stats.asks,
    answered: stats.answered,
    failed: stats.failed,
    pending: stats.pending,
    failed_by_code: stats.failedByCode,
    prompt_tokens: stats.promptTokens,
    completion_tokens: stats.completionTokens,
    cost_usd: stats.costUsd,
    latency_ms: stats.latencyMs,
  };
}

/** Opaque to clients; today it carries the last id of the page. */
export function encodeCursor(afterId: number): string {
  return Buffer.from(JSON.stringify({ after: afterId })).toString('base64url');
}

export function decodeCursor(cursor: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const after = (parsed as { after?: unknown } | null)?.after;
    return Number.isSafeInteger(after) && (after as number) > 0 ? (after as number) : undefined;
  } catch {
    return undefined;
  }
}
