/**
 * Scenario (b): POST /ask with a slow LLM and many connections, askbase against the baseline,
 * then askbase with a process per core (WORKERS=auto). Judged on the steady-state rate by
 * Little's law (connections / mean latency): each connection completes only whole round trips.
 */
import { availableParallelism } from 'node:os';
import { coresNeeded } from '../lib/cpu-by-part.js';
import { fmt } from '../lib/format.js';
import { askItem } from '../lib/measure.js';
import { type Results, type Target, find, ratio } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import { BOTH, SERVER_DATABASES } from '../lib/servers.js';

export const LLM_LATENCY_B = 1000;
const CONNECTIONS_B = 1000;

export const askSlowLlm: Scenario = {
  id: 'b',
  title: `POST /ask, LLM ${LLM_LATENCY_B} ms, ${CONNECTIONS_B} connections`,
  databases: SERVER_DATABASES,
  llmLatencies: () => [LLM_LATENCY_B],
  async run({ withServers, measure }) {
    await withServers(BOTH, LLM_LATENCY_B, (servers) =>
      measure(
        servers.map((server) =>
          askItem(
            server,
            'b',
            `POST /ask, LLM ${LLM_LATENCY_B} ms, ${CONNECTIONS_B} conns`,
            CONNECTIONS_B,
            LLM_LATENCY_B,
          ),
        ),
      ),
    );
    // The same load on askbase with a process per core (WORKERS=auto).
    await withServers(
      ['askbase'],
      LLM_LATENCY_B,
      (servers) =>
        measure(
          servers.map((server) =>
            askItem(
              server,
              'b-workers',
              `POST /ask, LLM ${LLM_LATENCY_B} ms, ${CONNECTIONS_B} conns, WORKERS=auto (${availableParallelism()})`,
              CONNECTIONS_B,
              LLM_LATENCY_B,
            ),
          ),
        ),
      undefined,
      { WORKERS: 'auto' },
    );
    return undefined;
  },
  targets,
  render: () => [],
};

function targets(results: Results): Target[] {
  const b = find(results, 'b', 'askbase');
  if (!b) return [];
  const targets: Target[] = [];
  const ideal = b.connections / ((b.llmLatencyMs ?? 1000) / 1000);
  const share = ratio(b.load.rpsLittle, ideal);
  const needed = coresNeeded(b, ideal);
  // The same LLM latency with the chart's fewer connections: a rate these cores can carry.
  const fits = results.chart.find((point) => point.latencyMs === b.llmLatencyMs && point.ideal);
  targets.push({
    id: 'b-throughput',
    description: `(b) POST /ask, LLM ${b.llmLatencyMs} ms, ${b.connections} connections: ≥ 90% of ${fmt(ideal)} req/s`,
    figure:
      `${fmt(b.load.rpsLittle)} req/s steady state (connections / mean latency ${fmt(b.load.meanMs)} ms)` +
      ` = ${Math.round(share * 100)}%; ${fmt(b.load.rps)} req/s counted over the run` +
      (needed
        ? `. At ${fmt(ideal)} req/s this benchmark's own processes would need ${needed.cores} cores` +
          ` (${needed.all} ms of CPU per ask, askbase's ${needed.server}); the machine has ${needed.cpus}`
        : '') +
      (fits?.ideal
        ? `. At ${fmt(fits.ideal)} req/s (${fmt(results.config.chartConnections)} connections), which fits, askbase reached ` +
          `${Math.round((fits.askbase / fits.ideal) * 100)}% (the baseline ${Math.round((fits.baseline / fits.ideal) * 100)}%)`
        : ''),
    met: share >= 0.9,
  });
  const workers = find(results, 'b-workers', 'askbase');
  if (workers) {
    const workersShare = ratio(workers.load.rpsLittle, ideal);
    targets.push({
      id: 'b-workers',
      description: `(b) the same with WORKERS=auto: ≥ 90% of ${fmt(ideal)} req/s`,
      figure: `${fmt(workers.load.rpsLittle)} req/s steady state (mean ${fmt(workers.load.meanMs)} ms) = ${Math.round(workersShare * 100)}%; ${workers.load.errors} errors`,
      met: workersShare >= 0.9 && workers.load.errors === 0,
    });
  }
  targets.push({
    id: 'b-errors',
    description: '(b) no errors',
    figure: `${b.load.non2xx} non-2xx, ${b.load.socketErrors} socket errors (${b.load.timeouts} timeouts)`,
    met: b.load.errors === 0,
  });
  targets.push({
    id: 'b-connections',
    description: `(b) database connections ≤ pool size (${results.config.poolMax})`,
    figure: `at most ${b.samples.maxDbConnections} open, ${b.samples.maxDbBusy} busy`,
    met: (b.samples.maxDbConnections ?? Infinity) <= results.config.poolMax,
  });
  return targets;
}
