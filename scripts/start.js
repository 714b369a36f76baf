// `npm start`: builds when the sources changed since the last build, then runs what ships
// (dist/main.js) in this same process: a second Node process for the check cost about 0.13 s
// of every start. WORKERS' processes run this file too; for them the build is current.
import { buildIfStale } from './build-if-stale.js';

buildIfStale();
await import('../dist/main.js');
