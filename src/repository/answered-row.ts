import { type SQL, sql } from 'drizzle-orm';
import { questionAnswers } from '../db/schema.js';
import type { StoredAnswer } from '../domain/question-answer.js';
import { storableText } from '../domain/storable-text.js';
import { storableJson } from './question-columns.js';
import { searchTerms } from './search-terms.js';
import { withoutAnswerText } from './stored-response.js';

const { searchTerms: searchTermsColumn, textStored } = questionAnswers;

/** What an answer is recorded with, as bound to its statement. */
export function answeredParams(answer: StoredAnswer, answeredAt: Date) {
  return {
    answer: storableText(answer.text),
    answerTerms: searchTerms(answer.text),
    model: answer.model,
    promptTokens: answer.usage?.promptTokens ?? null,
    completionTokens: answer.usage?.completionTokens ?? null,
    totalTokens: answer.usage?.totalTokens ?? null,
    cachedPromptTokens: answer.usage?.cachedPromptTokens ?? null,
    reasoningTokens: answer.usage?.reasoningTokens ?? null,
    latencyMs: answer.latencyMs,
    ttftMs: answer.ttftMs ?? null,
    finishReason: answer.finishReason ?? null,
    response: answer.exchange?.response
      ? storableJson(withoutAnswerText(answer.exchange.response, storableText(answer.text)))
      : null,
    stateDigest: answer.exchange?.stateDigest ?? null,
    costUsd: answer.costUsd ?? null,
    priceInput: answer.price?.inputPerMTok ?? null,
    priceOutput: answer.price?.outputPerMTok ?? null,
    priceCachedInput: answer.price?.cachedInputPerMTok ?? null,
    answeredAt: answeredAt.toISOString(),
  };
}

type AnsweredParams = ReturnType<typeof answeredParams>;

/** An answered row's columns, each from `param(name)`: a placeholder of the prepared statement. */
export function answeredRow(param: (name: keyof AnsweredParams) => SQL) {
  return {
    status: 'answered' as const,
    answer: param('answer'),
    // A row an older version stored keeps null, so the background job indexes it whole.
    searchTerms: sql`case when ${searchTermsColumn} is null then null else ${searchTermsColumn} || ${param('answerTerms')}::text[] end`,
    model: param('model'),
    promptTokens: param('promptTokens'),
    completionTokens: param('completionTokens'),
    totalTokens: param('totalTokens'),
    cachedPromptTokens: param('cachedPromptTokens'),
    reasoningTokens: param('reasoningTokens'),
    latencyMs: param('latencyMs'),
    ttftMs: param('ttftMs'),
    finishReason: param('finishReason'),
    // Kept while the row's text is: a row asked with "store": false keeps none of it.
    response: sql`case when ${textStored} then ${param('response')}::jsonb end`,
    stateDigest: sql`case when ${textStored} then ${param('stateDigest')}::text end`,
    costUsd: param('costUsd'),
    priceInputPerMtok: param('priceInput'),
    priceOutputPerMtok: param('priceOutput'),
    priceCachedInputPerMtok: param('priceCachedInput'),
    answeredAt: param('answeredAt'),
    errorCode: null,
    errorMessage: null,
  };
}
