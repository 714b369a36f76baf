/**
 * askbase's web page: ask and watch the answer stream in; browse, search and filter everything
 * stored, newest first, a keyset page at a time; open, copy, retry and delete. Every action
 * makes a bounded number of requests: one list request at a time, a search only after typing
 * pauses, the next page only when the end of the list comes into view.
 */
import { ApiError, type QuestionAnswer, askStreaming, messageOf, retry } from './api.js';
import { button, byId, h } from './dom.js';
import { openFromUrl, startDetail } from './detail-view.js';
import { onFiltersChange, readUrl } from './filters.js';
import { formatCost, formatLatency, formatTokens } from './format.js';
import { startExport } from './history-export.js';
import { reload, showInHistory, startHistory } from './history-list.js';
import { startKeyPrompt, withKey } from './key-prompt.js';
import { renderMarkdown } from './markdown.js';
import { questionActions, refresh } from './question-actions.js';

const askForm = byId<HTMLFormElement>('ask-form');
const questionField = byId<HTMLTextAreaElement>('question');
const askButton = byId<HTMLButtonElement>('ask-button');
const current = byId('current');

if (/Mac|iPhone|iPad/.test(navigator.platform)) byId('ask-hint').textContent = '⌘+Enter sends';

startKeyPrompt();

startHistory(questionActions);

startExport();

startDetail(questionActions);

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
