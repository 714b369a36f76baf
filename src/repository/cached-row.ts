import { sql } from 'drizzle-orm';
import type { QuestionAnswer } from '../domain/question-answer.js';
import { storableText } from '../domain/storable-text.js';
import type { CreateCachedOptions } from '../qa/ports.js';
import { storableJson } from './question-columns.js';
import { searchTerms } from './search-terms.js';
import { withoutAnswerText } from './stored-response.js';

/**
 * The values of a new row answered from the cache: `source`'s answer copied, at no cost. Null
 * `question`: the text is not to be stored, and neither is the copy's.
 */
export function cachedRow(
  question: string | null,
  source: QuestionAnswer,
  options: CreateCachedOptions,
) {
  const keepText = question !== null;
  const { follows, request, exchange } = options;
  return {
    question,
    answer: keepText ? source.answer : null,
    status: 'answered' as const,
    model: source.model,
    finishReason: source.finishReason,
    kind: options.kind ?? 'ask',
    parentId: follows?.parentId ?? null,
    conversationId: follows?.conversationId ?? null,
    requestMessages: keepText && request ? sql`${storableJson(request.messages)}::jsonb` : null,
    requestParams: keepText && request ? sql`${storableJson(request.params)}::jsonb` : null,
    response:
      keepText && exchange?.response
        ? sql`${storableJson(withoutAnswerText(exchange.response, storableText(source.answer)))}::jsonb`
        : null,
    stateDigest: keepText ? (exchange?.stateDigest ?? null) : null,
    latencyMs: options.latencyMs,
    costUsd: 0,
    answeredAt: sql`now()`,
    idempotencyKey: options.idempotencyKey ?? null,
    keyName: options.keyName ?? null,
    cacheKey: options.cacheKey,
    cachedFrom: source.id,
    textStored: keepText,
    searchTerms: keepText ? searchTerms(question, source.answer) : [],
  };
}
