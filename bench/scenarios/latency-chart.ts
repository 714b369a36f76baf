/**
 * The chart: POST /ask throughput against the fake LLM's latency, askbase and the baseline, at
 * BENCH_LATENCIES with BENCH_CHART_CONNECTIONS (drawn by lib/chart-svg.ts).
 */
import { SVG_NAME } from '../lib/config.js';
import { askItem } from '../lib/measure.js';
import { type ChartPoint, find } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import { BOTH, SERVER_DATABASES } from '../lib/servers.js';

export const latencyChart: Scenario = {
  id: 'chart',
  title: 'POST /ask throughput against LLM latency',
  databases: SERVER_DATABASES,
  llmLatencies: (config) => config.latencies,
  async run({ config, runs, withServers, measure }) {
    const chart: ChartPoint[] = [];
    for (const latency of config.latencies) {
      const conns = config.chartConnections;
      const label = `POST /ask, LLM ${latency} ms, ${conns} conns`;
      // Scenario (a) measured this point already.
      const reused = BOTH.map((kind) =>
        latency === 0 && conns === 100 ? find({ runs }, 'a', kind) : undefined,
      );
      const [baseline, askbase] = reused.every(Boolean)
        ? reused.map((run) => run?.load.rps ?? 0)
        : (
            await withServers(BOTH, latency, (servers) =>
              measure(servers.map((s) => askItem(s, 'chart', label, conns, latency))),
            )
          ).map((run) => run.load.rps);
      chart.push({
        latencyMs: latency,
        askbase: askbase ?? 0,
        baseline: baseline ?? 0,
        ideal: latency > 0 ? conns / (latency / 1000) : null,
      });
    }
    return { chart };
  },
  targets: () => [],
  render(results) {
    if (results.chart.length === 0) return [];
    // The chart labels each point with its req/s; latest.json has them too.
    return [
      `![POST /ask req/s, ${results.config.chartConnections} connections](bench/results/${SVG_NAME})`,
    ];
  },
};
