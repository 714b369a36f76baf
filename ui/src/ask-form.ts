/**
 * The ask form and its answer: the question is sent, the answer streams into the live region
 * (#current) and is shown as Markdown once stored, with what was stored under it; it then heads
 * the history. Ctrl+Enter (⌘+Enter on Apple devices) sends; a failed answer offers Retry.
 */
import { ApiError, type QuestionAnswer, askStreaming, messageOf, retry } from './api.js';
import { button, byId, h } from './dom.js';
import { formatCost, formatLatency, formatTokens } from './format.js';
import { showInHistory } from './history-list.js';
import { withKey } from './key-prompt.js';
import { renderMarkdown } from './markdown.js';
import { refresh } from './question-actions.js';

const askForm = byId<HTMLFormElement>('ask-form');
const questionField = byId<HTMLTextAreaElement>('question');
const askButton = byId<HTMLButtonElement>('ask-button');
const current = byId('current');

export function startAskForm(): void {
  if (/Mac|iPhone|iPad/.test(navigator.platform)) byId('ask-hint').textContent = '⌘+Enter sends';
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
}

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
