/**
 * Scenario (b): POST /ask with a slow LLM and many connections, askbase against the baseline,
 * then askbase with a process per core (WORKERS=auto). Judged on the steady-state rate by
 * Little's law (connections / mean latency): each connection completes only whole round trips.
 */
import { availableParallelism } from 'node:os';
import { coresNeeded } from '../lib/cpu-by-part.js';
import { fmt } from '../lib/format.js';
import { askItem } from '../lib/measure.js';
import { type Results, type RunRecord, type Target, find, ratio } from '../lib/results.js';
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
  render,
};

function targets(results: Results): Target[] {
  const b = find(results, 'b', 'askbase');
  if (!b) return [];
  const targets: Target[] = [];
  const ideal = idealRps(b);
  const share = ratio(b.load.rpsLittle, ideal);
  targets.push({
    id: 'b-throughput',
    description: `≥ 90% of ${fmt(ideal)} req/s, steady state`,
    figure: `${fmt(b.load.rpsLittle)} req/s = ${Math.round(share * 100)}%`,
    met: share >= 0.9,
  });
  const workers = find(results, 'b-workers', 'askbase');
  if (workers) {
    const workersShare = ratio(workers.load.rpsLittle, ideal);
    targets.push({
      id: 'b-workers',
      description: `the same, WORKERS=auto, 0 errors`,
      figure: `${Math.round(workersShare * 100)}%, ${workers.load.errors} errors`,
      met: workersShare >= 0.9 && workers.load.errors === 0,
    });
  }
  targets.push({
    id: 'b-errors',
    description: '0 errors',
    figure: `${b.load.non2xx} non-2xx, ${b.load.socketErrors} socket`,
    met: b.load.errors === 0,
  });
  targets.push({
    id: 'b-connections',
    description: `DB connections ≤ pool (${results.config.poolMax})`,
    figure: `${b.samples.maxDbConnections} open, ${b.samples.maxDbBusy} busy`,
    met: (b.samples.maxDbConnections ?? Infinity) <= results.config.poolMax,
  });
  return targets;
}

/** What the connections would carry if every ask took just the LLM's latency. */
const idealRps = (run: RunRecord) => run.connections / ((run.llmLatencyMs ?? 1000) / 1000);

/**
 * Steady-state req/s (Little's law) beside the count over the rounds, and the cores the
 * benchmark's own processes would need at the ideal rate, at the CPU they spent per ask.
 */
function render(results: Results): string[] {
  const runs = [
    ['baseline', find(results, 'b', 'baseline')],
    ['askbase', find(results, 'b', 'askbase')],
    ['askbase, WORKERS=auto', find(results, 'b-workers', 'askbase')],
  ] as const;
  const rows = runs.flatMap(([name, run]) => {
    if (!run) return [];
    const needed = coresNeeded(run, idealRps(run));
    return [
      `| ${name} | ${fmt(run.load.rpsLittle)} (${fmt(run.load.rps)}) | ${fmt(run.samples.peakRssMb)} | ${run.cpuMsPerRequest} | ${needed ? `${needed.cores} of ${needed.cpus}` : '–'} |`,
    ];
  });
  if (rows.length === 0) return [];
  return [
    '| server | req/s steady (counted) | RSS MiB | CPU ms/ask | cores at ideal |',
    '| --- | --: | --: | --: | --: |',
    ...rows,
  ];
}
