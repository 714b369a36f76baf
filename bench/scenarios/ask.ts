/** Scenario (a): POST /ask with an instant LLM, askbase against the baseline. */
import { askItem } from '../lib/measure.js';
import { find } from '../lib/results.js';
import { runTable } from '../lib/run-table.js';
import type { Scenario } from '../lib/scenario.js';
import { BOTH, SERVER_DATABASES } from '../lib/servers.js';
import { versusBaseline } from '../lib/targets.js';

export const ask: Scenario = {
  id: 'a',
  title: 'POST /ask, LLM 0 ms, 100 connections',
  databases: SERVER_DATABASES,
  async run({ withServers, measure }) {
    await withServers(BOTH, 0, (servers) =>
      measure(
        servers.map((server) => askItem(server, 'a', 'POST /ask, LLM 0 ms, 100 conns', 100, 0)),
      ),
    );
    return undefined;
  },
  // Issue 14's threshold, with askbase at its default log level.
  targets: (results) => versusBaseline(results, 'a', 0.8),
  render: (results) =>
    runTable('server', [
      ['baseline', find(results, 'a', 'baseline')],
      ['askbase', find(results, 'a', 'askbase')],
    ]),
};
