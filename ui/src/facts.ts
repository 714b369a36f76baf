/**
 * How a stored row's facts are shown: its kind and conversation in the history list, and the
 * list of everything stored about it in the detail view.
 */
import type { QuestionAnswer } from './api.js';
import { h } from './dom.js';
import { formatCost, formatLatency, formatTime, formatTokens } from './format.js';

/**
 * A badge naming where a row came from ("chat", "response"), after a space; asks, the page's own,
 * have none.
 */
export function kindBadge(qa: QuestionAnswer): (HTMLSpanElement | string)[] {
  return qa.kind === 'ask' ? [] : [' ', h('span', { class: 'badge badge-chat' }, qa.kind)];
}

/** The conversation a row is a later turn of, as a hint for the history list; '' when none. */
export function turnHint(qa: QuestionAnswer): string {
  return qa.parent_id !== null && qa.conversation_id !== null
    ? ` · turn of conversation #${qa.conversation_id}`
    : '';
}

/** A question without its stored text (`"store": false`) still shows what it was. */
export function questionText(qa: QuestionAnswer): string {
  return qa.question ?? `Question #${qa.id} (text not stored)`;
}

const KIND_NAMES: Record<QuestionAnswer['kind'], string> = {
  ask: 'ask (POST /ask)',
  chat: 'chat (POST /v1/chat/completions)',
  response: 'response (POST /v1/responses)',
};

/** Everything stored about a row, for the detail view; facts a row may lack are left out. */
export function factsList(qa: QuestionAnswer): HTMLDListElement {
  const field = (name: string, value: string) => [h('dt', {}, name), h('dd', {}, value)];
  const optional = (
    name: string,
    value: number | string | null | undefined,
    text = String(value),
  ) => (value === null || value === undefined ? [] : field(name, text));
  return h(
    'dl',
    { class: 'facts' },
    ...field('Kind', KIND_NAMES[qa.kind]),
    ...field('Status', qa.status),
    ...field('Model', qa.model ?? '—'),
    ...field('Asked', formatTime(qa.created_at)),
    ...field('Answered', formatTime(qa.answered_at)),
    ...field('Latency', formatLatency(qa.latency_ms)),
    ...optional('Time to first token', qa.ttft_ms, formatLatency(qa.ttft_ms)),
    ...field('Finish reason', qa.finish_reason ?? '—'),
    ...field('Tokens', formatTokens(qa.usage)),
    ...optional('Cached prompt tokens', qa.usage?.cached_prompt_tokens),
    ...optional('Reasoning tokens', qa.usage?.reasoning_tokens),
    ...field('Cost', formatCost(qa.cost_usd)),
    ...optional('Conversation', qa.conversation_id, conversationText(qa)),
    ...optional('API key', qa.key_name),
  );
}

function conversationText(qa: QuestionAnswer): string {
  return qa.parent_id === null
    ? `#${qa.conversation_id}, its first turn`
    : `#${qa.conversation_id}, after #${qa.parent_id}`;
}
