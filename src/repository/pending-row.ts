import { type SQL, sql } from 'drizzle-orm';
import type { ExchangeKind } from '../domain/question-answer.js';
import type { CreatePendingOptions } from '../qa/ports.js';
import { storableJson } from './question-columns.js';
import { searchTerms } from './search-terms.js';

/** What a pending row is inserted with, as bound to its statement. */
export type PendingParams = {
  question: string | null;
  idempotencyKey: string | null;
  keyName: string | null;
  cacheKey: string | null;
  textStored: boolean;
  kind: ExchangeKind;
  parentId: number | null;
  conversationId: number | null;
  requestMessages: string | null;
  requestParams: string | null;
  requestDigest: string | null;
  responseId: string | null;
  owner: string | null;
  searchTerms: string[];
  deadlineMs: number;
};

/** The parameters of `question`'s pending row, owned by `owner`; null `question`: no text kept. */
export function pendingParams(
  question: string | null,
  {
    idempotencyKey,
    deadlineMs,
    keyName,
    cacheKey,
    kind = 'ask',
    follows,
    request,
    requestDigest,
    responseId,
  }: CreatePendingOptions,
  owner: string | null,
): PendingParams {
  const keepText = question !== null;
  return {
    question,
    idempotencyKey: idempotencyKey ?? null,
    keyName: keyName ?? null,
    cacheKey: cacheKey ?? null,
    textStored: keepText,
    kind,
    parentId: follows?.parentId ?? null,
    conversationId: follows?.conversationId ?? null,
    requestMessages: keepText && request ? storableJson(request.messages) : null,
    requestParams: keepText && request ? storableJson(request.params) : null,
    requestDigest: keepText ? (requestDigest ?? null) : null,
    responseId: responseId ?? null,
    owner,
    searchTerms: searchTerms(question),
    deadlineMs,
  };
}

/**
 * A pending row's values, each from `value(name)`: a placeholder of the prepared statement,
 * or the parameter itself inside a transaction. One definition for both.
 */
export function pendingRow(value: (name: keyof PendingParams) => SQL) {
  return {
    question: value('question'),
    idempotencyKey: value('idempotencyKey'),
    keyName: value('keyName'),
    cacheKey: value('cacheKey'),
    textStored: value('textStored'),
    kind: value('kind'),
    parentId: value('parentId'),
    conversationId: value('conversationId'),
    requestMessages: sql`${value('requestMessages')}::jsonb`,
    requestParams: sql`${value('requestParams')}::jsonb`,
    requestDigest: value('requestDigest'),
    responseId: value('responseId'),
    owner: value('owner'),
    searchTerms: sql`${value('searchTerms')}::text[]`,
    deadlineAt: sql`now() + ${value('deadlineMs')} * interval '1 millisecond'`,
  };
}
