/**
 * One stored question in a modal dialog: everything stored about it, its conversation's turns,
 * and what can be done to it. While it is open, its id is in the page's URL, which opens it again.
 */
import { type QuestionAnswer, getConversation, getOne, messageOf } from './api.js';
import { conversationSection } from './conversation.js';
import { byId, h } from './dom.js';
import { factsList, questionText } from './facts.js';
import { writeUrl } from './filters.js';
import { showStatus } from './history-status.js';
import { withKey } from './key-prompt.js';
import { renderMarkdown } from './markdown.js';

const detail = byId<HTMLDialogElement>('detail');
const detailContent = byId('detail-content');
const detailActions = byId('detail-actions');

/** The buttons for what can be done to a question; given by main.ts, as they change this view. */
let actionsOf: (qa: QuestionAnswer) => HTMLButtonElement[] = () => [];

export function startDetail(actions: (qa: QuestionAnswer) => HTMLButtonElement[]): void {
  actionsOf = actions;
  detail.addEventListener('close', () => writeUrl());
}

export async function openDetail(id: number): Promise<void> {
  try {
    const qa = await withKey(() => getOne(id));
    showDetail(qa);
    if (!detail.open) detail.showModal();
    writeUrl(id);
  } catch (error) {
    showStatus(messageOf(error));
  }
}

/** Opens the question the page's URL names (`?id=`), when it names one. */
export function openFromUrl(): void {
  const openId = Number(new URLSearchParams(location.search).get('id'));
  if (Number.isInteger(openId) && openId > 0) void openDetail(openId);
}

export function showDetail(qa: QuestionAnswer): void {
  detail.dataset.id = String(qa.id);
  byId('detail-heading').textContent = `Question #${qa.id}`;
  detailContent.replaceChildren(
    h('p', { class: 'detail-question' }, questionText(qa)),
    h('div', { class: 'answer' }, qa.answer !== null && renderMarkdown(qa.answer)),
    h('p', { class: 'error' }, qa.error && `${qa.error.message} (${qa.error.code})`),
    factsList(qa),
    ...conversationSection(qa, {
      load: (id) => withKey(() => getConversation(id)),
      // The link pressed is gone with the old content: focus goes to the new heading.
      open: (id) => void openDetail(id).then(() => byId('detail-heading').focus()),
      messageOf,
    }),
  );
  detailActions.replaceChildren(...actionsOf(qa));
}

/** Whether the dialog is open — and, when `id` is given, open on that question. */
export function detailShows(id?: number): boolean {
  return detail.open && (id === undefined || detail.dataset.id === String(id));
}

export function closeDetail(): void {
  detail.close();
}
