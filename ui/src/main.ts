/**
 * askbase's web page: ask and watch the answer stream in; browse, search and filter everything
 * stored, newest first, a keyset page at a time; open, copy, retry and delete. Every action
 * makes a bounded number of requests: one list request at a time, a search only after typing
 * pauses, the next page only when the end of the list comes into view.
 */
import {
  ApiError,
  type QuestionAnswer,
  askStreaming,
  getOne,
  listPage,
  messageOf,
  remove,
  retry,
} from './api.js';
import { button, byId, h } from './dom.js';
import {
  closeDetail,
  detailShows,
  openDetail,
  openFromUrl,
  showDetail,
  startDetail,
} from './detail-view.js';
import { kindBadge, questionText, turnHint } from './facts.js';
import { currentFilters, hasFilters, onFiltersChange, readUrl } from './filters.js';
import { formatCost, formatLatency, formatTime, formatTokens, preview } from './format.js';
import { startExport } from './history-export.js';
import { showStatus } from './history-status.js';
import { startKeyPrompt, withKey } from './key-prompt.js';
import { renderMarkdown } from './markdown.js';

const askForm = byId<HTMLFormElement>('ask-form');
const questionField = byId<HTMLTextAreaElement>('question');
const askButton = byId<HTMLButtonElement>('ask-button');
const current = byId('current');
const historyList = byId<HTMLUListElement>('history-list');
const historyEnd = byId('history-end');
const loadMoreButton = byId<HTMLButtonElement>('load-more');

if (/Mac|iPhone|iPad/.test(navigator.platform)) byId('ask-hint').textContent = '⌘+Enter sends';

startKeyPrompt();

// ---- History --------------------------------------------------------------------------------

let listing = { controller: new AbortController(), next: undefined as string | undefined };
let loading = false;

async function reload(): Promise<void> {
  listing.controller.abort();
  listing = { controller: new AbortController(), next: undefined };
  const { controller } = listing;
  showStatus('Loading…');
  try {
    const page = await withKey(() => listPage(currentFilters(), controller.signal));
    if (controller.signal.aborted) return;
    historyList.replaceChildren(...page.items.map(historyItem));
    listing.next = page.next;
    showStatus(
      page.items.length === 0
        ? hasFilters()
          ? 'No stored question matches.'
          : 'Nothing stored yet. Ask something above.'
        : '',
    );
  } catch (error) {
    if (controller.signal.aborted) return;
    showStatus(messageOf(error));
  }
  showMore();
}

async function loadMore(): Promise<void> {
  const { controller, next } = listing;
  if (!next || loading) return;
  loading = true;
  showStatus('Loading more…');
  try {
    const page = await withKey(() => listPage(next, controller.signal));
    if (controller.signal.aborted) return;
    const shown = new Set([...historyList.children].map((li) => (li as HTMLElement).dataset.id));
    historyList.append(...page.items.filter((qa) => !shown.has(String(qa.id))).map(historyItem));
    listing.next = page.next;
    showStatus('');
  } catch (error) {
    if (!controller.signal.aborted) showStatus(messageOf(error));
  } finally {
    loading = false;
    showMore();
  }
}

function showMore(): void {
  loadMoreButton.hidden = listing.next === undefined;
}

// The next page loads when the end of the list comes near; the button is there for keyboards.
new IntersectionObserver(
  (entries) => {
    if (entries.some((entry) => entry.isIntersecting)) void loadMore();
  },
  { rootMargin: '400px' },
).observe(historyEnd);
loadMoreButton.addEventListener('click', () => void loadMore());

function historyItem(qa: QuestionAnswer): HTMLLIElement {
  const open = h('a', { href: `?id=${qa.id}`, class: 'item-question' }, questionText(qa));
  open.addEventListener('click', (event) => {
    event.preventDefault();
    void openDetail(qa.id);
  });
  const summary =
    qa.status === 'answered' && qa.answer !== null
      ? h('p', { class: 'item-preview' }, preview(qa.answer))
      : qa.status === 'answered'
        ? h('p', { class: 'item-preview' }, 'Answered; the text was not stored.')
        : qa.error
          ? h('p', { class: 'item-preview item-error' }, qa.error.message)
          : h('p', { class: 'item-preview' }, 'Waiting for the answer…');
  return h(
    'li',
    { class: 'item', 'data-id': String(qa.id), 'data-status': qa.status },
    h('div', { class: 'item-head' }, open),
    h(
      'p',
      { class: 'item-meta' },
      h('span', { class: `badge badge-${qa.status}` }, qa.status),
      ...kindBadge(qa),
      ` #${qa.id} · ${formatTime(qa.created_at)}`,
      qa.model ? ` · ${qa.model}` : '',
      turnHint(qa),
    ),
    summary,
    h('div', { class: 'item-actions' }, ...actions(qa)),
  );
}

function actions(qa: QuestionAnswer): HTMLButtonElement[] {
  return [
    qa.answer !== null && button('Copy', () => void copy(qa.answer ?? '')),
    qa.status === 'failed' && qa.text_stored && button('Retry', () => void retryQuestion(qa.id)),
    button('Delete', () => void deleteQuestion(qa.id), { class: 'danger' }),
  ].filter((node): node is HTMLButtonElement => node !== false);
}

/** Puts a fresh copy of a question in the list: in its place, or first when it is new. */
function showInHistory(qa: QuestionAnswer): void {
  const item = historyItem(qa);
  const existing = historyList.querySelector(`li[data-id="${qa.id}"]`);
  if (existing) existing.replaceWith(item);
  else if (!hasFilters()) historyList.prepend(item);
  if (historyList.children.length > 0 && !hasFilters()) showStatus('');
}

// ---- Actions --------------------------------------------------------------------------------

async function copy(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    showStatus('Answer copied.');
  } catch {
    showStatus('The browser did not allow copying.');
  }
}

async function retryQuestion(id: number): Promise<void> {
  showStatus(`Asking #${id} again…`);
  try {
    const qa = await withKey(() => retry(id));
    showInHistory(qa);
    if (detailShows()) showDetail(qa);
    showStatus(`#${id} answered.`);
  } catch (error) {
    showStatus(messageOf(error));
    await refresh(id);
  }
}

async function deleteQuestion(id: number): Promise<void> {
  if (!confirm(`Delete question #${id}? This cannot be undone.`)) return;
  try {
    await withKey(() => remove(id));
    historyList.querySelector(`li[data-id="${id}"]`)?.remove();
    if (detailShows(id)) closeDetail();
    showStatus(`#${id} deleted.`);
  } catch (error) {
    showStatus(messageOf(error));
  }
}

/** Shows the stored state of one question again (after a failure that may have changed it). */
async function refresh(id: number): Promise<void> {
  try {
    const qa = await withKey(() => getOne(id));
    showInHistory(qa);
    if (detailShows(id)) showDetail(qa);
  } catch {
    // The list stays as it was; the message already shown says what went wrong.
  }
}

startExport();

startDetail(actions);

// ---- Asking ---------------------------------------------------------------------------------

async function ask(question: string): Promise<void> {
  askButton.disabled = true;
  const streamed = h('div', { class: 'answer answer-streaming' });
  const stored = h('p', { class: 'current-meta' }, 'Asking…');
  current.replaceChildren(h('p', { class: 'current-question' }, question), streamed, stored);
  let text = '';
  try {
    const qa = await withKey(() =>
      askStreaming(question, {
        created: (id) => (stored.textContent = `Stored as #${id}; answering…`),
        delta: (piece) => {
          text += piece;
          streamed.textContent = text;
        },
      }),
    );
    streamed.classList.remove('answer-streaming');
    streamed.replaceChildren(renderMarkdown(qa.answer ?? ''));
    stored.textContent = storedLine(qa);
    questionField.value = '';
    showInHistory(qa);
  } catch (error) {
    streamed.classList.remove('answer-streaming');
    stored.replaceChildren(h('span', { class: 'error', role: 'alert' }, messageOf(error)));
    const id = error instanceof ApiError ? error.id : undefined;
    if (id !== undefined) {
      stored.append(
        ' ',
        button('Retry', () => void retryCurrent(id)),
      );
      await refresh(id);
    }
  } finally {
    askButton.disabled = false;
  }
}

/** What was stored, in one line under the answer. */
function storedLine(qa: QuestionAnswer): string {
  return (
    `Stored as #${qa.id} · ${qa.model ?? 'unknown model'} · ` +
    `${formatTokens(qa.usage)} tokens · ${formatLatency(qa.latency_ms)} · ${formatCost(qa.cost_usd)}`
  );
}

async function retryCurrent(id: number): Promise<void> {
  const stored = current.querySelector('.current-meta');
  if (stored) stored.textContent = `Asking #${id} again…`;
  try {
    const qa = await withKey(() => retry(id));
    const streamed = current.querySelector('.answer');
    streamed?.replaceChildren(renderMarkdown(qa.answer ?? ''));
    if (stored) {
      stored.textContent = storedLine(qa);
    }
    showInHistory(qa);
  } catch (error) {
    stored?.replaceChildren(h('span', { class: 'error', role: 'alert' }, messageOf(error)));
    if (stored)
      stored.append(
        ' ',
        button('Retry', () => void retryCurrent(id)),
      );
    await refresh(id);
  }
}

askForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const question = questionField.value.trim();
  if (question && !askButton.disabled) void ask(question);
});
questionField.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    askForm.requestSubmit();
  }
});

// ---- Start ----------------------------------------------------------------------------------

onFiltersChange(() => void reload());
readUrl();
void reload();
openFromUrl();
