/**
 * A conversation's turns in the detail view, kept small: a button that loads
 * GET /conversations/{id} once and lists the turns oldest first, each question → answer, the
 * open one marked and the others linked. (A full thread view is a later issue.)
 */
import type { QuestionAnswer } from './api.js';
import { h } from './dom.js';
import { preview } from './format.js';

export interface ConversationActions {
  /** The conversation's turns, oldest first. */
  load(conversationId: number): Promise<QuestionAnswer[]>;
  /** Opens one turn in the detail view. */
  open(id: number): void;
  /** What to say when loading failed. */
  messageOf(error: unknown): string;
}

/** The section for a row that is a turn of a conversation; none for a row that is not. */
export function conversationSection(
  qa: QuestionAnswer,
  actions: ConversationActions,
): HTMLElement[] {
  const conversationId = qa.conversation_id;
  if (conversationId === null) return [];
  const listId = `conversation-${conversationId}-turns`;
  const toggle = h(
    'button',
    { type: 'button', 'aria-expanded': 'false', 'aria-controls': listId },
    `Show conversation #${conversationId}`,
  );
  const status = h('p', { class: 'hint', role: 'status' });
  const list = h('ol', {
    id: listId,
    class: 'turns',
    'aria-label': `Turns of conversation #${conversationId}`,
    hidden: true,
  });
  let state: 'unloaded' | 'loading' | 'loaded' = 'unloaded';
  const show = (shown: boolean) => {
    list.hidden = !shown;
    toggle.setAttribute('aria-expanded', String(shown));
    toggle.textContent = `${shown ? 'Hide' : 'Show'} conversation #${conversationId}`;
  };
  // The button is never disabled while loading: that would take the keyboard's focus away.
  toggle.addEventListener('click', () => {
    if (state === 'loaded') return show(list.hidden);
    if (state === 'loading') return;
    state = 'loading';
    status.textContent = 'Loading the conversation…';
    actions
      .load(conversationId)
      .then((turns) => {
        list.replaceChildren(...turns.map((turn) => turnItem(turn, qa.id, actions)));
        state = 'loaded';
        status.textContent = `${turns.length} ${turns.length === 1 ? 'turn' : 'turns'}.`;
        show(true);
      })
      .catch((error: unknown) => {
        state = 'unloaded';
        status.textContent = actions.messageOf(error);
      });
  });
  return [h('section', { class: 'conversation' }, toggle, status, list)];
}

function turnItem(
  turn: QuestionAnswer,
  openId: number,
  actions: ConversationActions,
): HTMLLIElement {
  const question = preview(turn.question ?? `Question #${turn.id} (text not stored)`, 120);
  let label: HTMLElement | string = question;
  if (turn.id !== openId) {
    const link = h('a', { href: `?id=${turn.id}` }, question);
    link.addEventListener('click', (event) => {
      event.preventDefault();
      actions.open(turn.id);
    });
    label = link;
  }
  return h(
    'li',
    { class: 'turn', 'data-id': String(turn.id), 'aria-current': turn.id === openId && 'true' },
    h('span', { class: 'turn-number' }, `#${turn.id}${turn.id === openId ? ' (this one)' : ''} `),
    label,
    ' → ',
    h('span', { class: 'turn-answer' }, answerText(turn)),
  );
}

function answerText(turn: QuestionAnswer): string {
  if (turn.answer !== null) return preview(turn.answer, 160) || '(no text: tool calls only)';
  if (turn.status === 'answered') return '(text not stored)';
  if (turn.status === 'failed') return turn.error?.message ?? 'failed';
  return 'waiting for the answer…';
}
