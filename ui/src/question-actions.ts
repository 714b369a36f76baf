/**
 * What can be done to a stored question, from its history item or its detail view: Copy the
 * answer, Retry when it failed, Delete it. What an action changes shows in both places.
 */
import { type QuestionAnswer, getOne, messageOf, remove, retry } from './api.js';
import { closeDetail, detailShows, showDetail } from './detail-view.js';
import { button } from './dom.js';
import { removeFromHistory, showInHistory } from './history-list.js';
import { showStatus } from './history-status.js';
import { withKey } from './key-prompt.js';

/** The buttons for what can be done to `qa` now. */
export function questionActions(qa: QuestionAnswer): HTMLButtonElement[] {
  return [
    qa.answer !== null && button('Copy', () => void copy(qa.answer ?? '')),
    qa.status === 'failed' && qa.text_stored && button('Retry', () => void retryQuestion(qa.id)),
    button('Delete', () => void deleteQuestion(qa.id), { class: 'danger' }),
  ].filter((node): node is HTMLButtonElement => node !== false);
}

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
    removeFromHistory(id);
    if (detailShows(id)) closeDetail();
    showStatus(`#${id} deleted.`);
  } catch (error) {
    showStatus(messageOf(error));
  }
}

/** Shows the stored state of one question again (after a failure that may have changed it). */
export async function refresh(id: number): Promise<void> {
  try {
    const qa = await withKey(() => getOne(id));
    showInHistory(qa);
    if (detailShows(id)) showDetail(qa);
  } catch {
    // The list stays as it was; the message already shown says what went wrong.
  }
}
