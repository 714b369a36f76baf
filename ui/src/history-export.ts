/** Export CSV and Export NDJSON: download what the history lists, all of it, as a file. */
import { exportFile, messageOf } from './api.js';
import { byId, h } from './dom.js';
import { currentFilters } from './filters.js';
import { showStatus } from './history-status.js';
import { withKey } from './key-prompt.js';

/** Downloads what the list shows, all of it, with the key when one is needed. */
async function download(format: 'csv' | 'ndjson'): Promise<void> {
  showStatus('Exporting…');
  try {
    const { blob, name } = await withKey(() => exportFile(format, currentFilters()));
    const link = h('a', { href: URL.createObjectURL(blob), download: name });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    showStatus(`Exported ${name}.`);
  } catch (error) {
    showStatus(messageOf(error));
  }
}

export function startExport(): void {
  byId('export-csv').addEventListener('click', () => void download('csv'));
  byId('export-ndjson').addEventListener('click', () => void download('ndjson'));
}
