/** Scenario (c): GET /qa/{id} of random rows, askbase against the baseline. */
import type { Item } from '../lib/measure.js';
import { find } from '../lib/results.js';
import { runTable } from '../lib/run-table.js';
import type { Scenario } from '../lib/scenario.js';
import { BOTH, SERVER_DATABASES, databaseName } from '../lib/servers.js';
import { versusBaseline } from '../lib/targets.js';

export const readById: Scenario = {
  id: 'c',
  title: 'GET /qa/{id}, 100 connections',
  databases: SERVER_DATABASES,
  async run({ pg, withServers, measure }) {
    await withServers(BOTH, 0, async (servers) => {
      const items: Item[] = [];
      for (const server of servers) {
        const database = databaseName(server.kind);
        const [range] = await pg.query<{ min: string; max: string }>(
          database,
          'select min(id) as min, max(id) as max from question_answers',
        );
        const min = Number(range?.min);
        const span = Number(range?.max) - min + 1;
        items.push({
          server,
          scenario: 'c',
          label: 'GET /qa/{id}, 100 conns',
          llmLatencyMs: null,
          spec: {
            baseUrl: server.baseUrl,
            method: 'GET',
            path: `/qa/${min}`,
            pathFor: () => `/qa/${min + Math.floor(Math.random() * span)}`,
            connections: 100,
          },
        });
      }
      await measure(items);
    });
    return undefined;
  },
  // Issue 14's threshold.
  targets: (results) => versusBaseline(results, 'c', 0.9),
  render: (results) =>
    runTable('server', [
      ['baseline', find(results, 'c', 'baseline')],
      ['askbase', find(results, 'c', 'askbase')],
    ]),
};
