// Run by `npm run build`: prepares the data directory that a fresh embedded DATA_DIR starts
// from, unless the one there was made for this PGlite and these migrations.
import { TEMPLATE_DIR } from '../paths.js';
import { isTemplateCurrent, makeTemplate } from './pglite-template.js';

const started = performance.now();
if (await isTemplateCurrent()) {
  console.error(`askbase: the embedded database template in ${TEMPLATE_DIR} is current`);
} else {
  await makeTemplate();
  console.error(
    `askbase: prepared the embedded database template in ${TEMPLATE_DIR} (${Math.round(performance.now() - started)} ms)`,
  );
}
