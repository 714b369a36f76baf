/** Scenario (e): POST /ask on askbase's embedded database (PGlite), against (a) on PostgreSQL. */
import { askItem } from '../lib/measure.js';
import { type Results, type Target, find, ratio } from '../lib/results.js';
import { runTable } from '../lib/run-table.js';
import type { Scenario } from '../lib/scenario.js';
import type { Server } from '../lib/servers.js';

export const askEmbeddedDb: Scenario = {
  id: 'e',
  title: 'POST /ask on the embedded database',
  async run({ withServers, measure }) {
    // Tuned beside, in alternating rounds: commits not synced to disk, so what syncing costs shows.
    await withServers(
      ['askbase'],
      0,
      ([synced]) =>
        withServers(
          ['askbase'],
          0,
          ([unsynced]) =>
            measure([
              askItem(synced as Server, 'e', 'POST /ask, LLM 0 ms, 100 conns, PGlite', 100, 0),
              askItem(
                unsynced as Server,
                'e-unsynced',
                'POST /ask, LLM 0 ms, 100 conns, PGlite, EMBEDDED_FSYNC=false',
                100,
                0,
              ),
            ]),
          'pglite',
          { EMBEDDED_FSYNC: 'false' },
        ),
      'pglite',
    );
    return undefined;
  },
  targets,
  render: (results) =>
    runTable('server', [
      ['askbase, PGlite', find(results, 'e', 'askbase')],
      ['askbase, PGlite, `EMBEDDED_FSYNC=false`', find(results, 'e-unsynced', 'askbase')],
    ]),
};

/** Issue 11's target: asks on the embedded database next to PostgreSQL's. */
function targets(results: Results): Target[] {
  const embedded = find(results, 'e', 'askbase');
  const onPostgres = find(results, 'a', 'askbase');
  if (!embedded || !onPostgres) return [];
  const throughput = ratio(embedded.load.rps, onPostgres.load.rps);
  const tail = ratio(embedded.load.p99Ms, onPostgres.load.p99Ms);
  return [
    {
      id: 'e',
      description: "≥ 0.8× (a)'s req/s, p99 ≤ 10× (a)'s",
      figure: `${throughput}×, p99 ${tail}×`,
      met: throughput >= 0.8 && tail <= 10,
    },
  ];
}
