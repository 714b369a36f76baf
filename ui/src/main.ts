/**
 * askbase's web page: ask and watch the answer stream in; browse, search and filter everything
 * stored, newest first, a keyset page at a time; open, copy, retry and delete. Every action
 * makes a bounded number of requests: one list request at a time, a search only after typing
 * pauses, the next page only when the end of the list comes into view.
 *
 * This file only wires the page's parts together; each is a module named for what it does.
 */
import { startAskForm } from './ask-form.js';
import { openFromUrl, startDetail } from './detail-view.js';
import { onFiltersChange, readUrl } from './filters.js';
import { startExport } from './history-export.js';
import { reload, startHistory } from './history-list.js';
import { startKeyPrompt } from './key-prompt.js';
import { questionActions } from './question-actions.js';

startKeyPrompt();
// The views show a question's buttons; the buttons' actions change the views.
startHistory(questionActions);
startExport();
startDetail(questionActions);
startAskForm();

onFiltersChange(() => void reload());
readUrl();
void reload();
openFromUrl();
