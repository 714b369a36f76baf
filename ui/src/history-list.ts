/**
 * The history: everything stored that the filters let through, newest first, a keyset page at a
 * time. One list request at a time; the next page only when the end of the list comes into view
 * (or Load more is pressed).
 */
import { type QuestionAnswer, listPage, messageOf } from './api.js';
import { openDetail } from './detail-view.js';
import { byId, h } from './dom.js';
import { kindBadge, questionText, turnHint } from './facts.js';
import { currentFilters, hasFilters } from './filters.js';
import { formatTime, preview } from './format.js';
import { showStatus } from './history-status.js';
import { withKey } from './key-prompt.js';

const historyList = byId<HTMLUListElement>('history-list');
const historyEnd = byId('history-end');
const loadMoreButton = byId<HTMLButtonElement>('load-more');

let listing = { controller: new AbortController(), next: undefined as string | undefined };
let loading = false;

/** The buttons for what can be done to a question; given by main.ts, as they change the list. */
let actionsOf: (qa: QuestionAnswer) => HTMLButtonElement[] = () => [];

export function startHistory(actions: (qa: QuestionAnswer) => HTMLButtonElement[]): void {
  actionsOf = actions;
  // The next page loads when the end of the list comes near; the button is there for keyboards.
  new IntersectionObserver(
    (entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void loadMore();
    },
    { rootMargin: '400px' },
  ).observe(historyEnd);
  loadMoreButton.addEventListener('click', () => void loadMore());
}

export async function reload(): Promise<void> {
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
    h('div', { class: 'item-actions' }, ...actionsOf(qa)),
  );
}

/** Puts a fresh copy of a question in the list: in its place, or first when it is new. */
export function showInHistory(qa: QuestionAnswer): void {
  const item = historyItem(qa);
  const existing = historyList.querySelector(`li[data-id="${qa.id}"]`);
  if (existing) existing.replaceWith(item);
  else if (!hasFilters()) historyList.prepend(item);
  if (historyList.children.length > 0 && !hasFilters()) showStatus('');
}

/** Takes a question out of the list, if it is there. */
export function removeFromHistory(id: number): void {
  historyList.querySelector(`li[data-id="${id}"]`)?.remove();
}
