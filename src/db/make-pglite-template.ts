// Run by `npm run build`: prepares the data directory that a fresh embedded DATA_DIR starts from.
import { writeFile } from 'node:fs/promises';
import { TEMPLATE_DIR, makeTemplate } from './pglite-template.js';

const started = performance.now();
await makeTemplate();
// The last step of a build: what `npm start` compares the sources against.
await writeFile(new URL('../.build-stamp', import.meta.url), `${new Date().toISOString()}\n`);
console.log(
  `askbase: prepared the embedded database template in ${TEMPLATE_DIR} (${Math.round(performance.now() - started)} ms)`,
);
