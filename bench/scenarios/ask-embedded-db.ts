/** Scenario (e): POST /ask on askbase's embedded database (PGlite), against (a) on PostgreSQL. */
import { fmt } from '../lib/format.js';
import { askItem } from '../lib/measure.js';
import { type Results, type Target, find, ratio } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';

export const askEmbeddedDb: Scenario = {
  id: 'e',
  title: 'POST /ask on the embedded database (PGlite)',
  async run({ withServers, measure }) {
    await withServers(
      ['askbase'],
      0,
      (servers) =>
        measure(
          servers.map((server) =>
            askItem(server, 'e', 'POST /ask, LLM 0 ms, 100 conns, PGlite', 100, 0),
          ),
        ),
      'pglite',
    );
    return undefined;
  },
  targets,
  render: () => [],
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
      description:
        '(e) asks on the embedded database, 100 connections: ≥ 0.8× PostgreSQL req/s, p99 ≤ 10× PostgreSQL’s',
      figure: `${fmt(embedded.load.rps)} vs ${fmt(onPostgres.load.rps)} req/s = ${throughput}×; p99 ${embedded.load.p99Ms} vs ${onPostgres.load.p99Ms} ms = ${tail}×`,
      met: throughput >= 0.8 && tail <= 10,
    },
  ];
}
