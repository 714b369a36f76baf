/**
 * The history's status line (#history-status, a live region): what the page is doing or has just
 * done — loading, copied, deleted, exported — or what went wrong.
 */
import { byId } from './dom.js';

const line = byId('history-status');

export function showStatus(text: string): void {
  line.textContent = text;
}
