/**
 * The chart: POST /ask throughput against the fake LLM's latency, askbase and the baseline, at
 * BENCH_LATENCIES with BENCH_CHART_CONNECTIONS (drawn by lib/chart-svg.ts).
 */
import { SVG_NAME } from '../lib/config.js';
import { fmt } from '../lib/format.js';
import { askItem } from '../lib/measure.js';
import { type ChartPoint, find, ratio } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import { BOTH, SERVER_DATABASES } from '../lib/servers.js';

export const latencyChart: Scenario = {
  id: 'chart',
  title: 'Throughput against LLM latency',
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
    const lines = [
      '',
      '### Throughput against LLM latency',
      '',
      `POST /ask with ${results.config.chartConnections} connections at each fake-LLM latency; "ideal" is connections / latency.`,
      '',
      `![Throughput against LLM latency](bench/results/${SVG_NAME})`,
      '',
      '| LLM latency ms | askbase req/s | baseline req/s | askbase / baseline | ideal req/s |',
      '| --: | --: | --: | --: | --: |',
    ];
    for (const point of results.chart) {
      lines.push(
        `| ${point.latencyMs} | ${fmt(point.askbase)} | ${fmt(point.baseline)} | ${ratio(point.askbase, point.baseline)}× | ${point.ideal === null ? '–' : fmt(point.ideal)} |`,
      );
    }
    return lines;
  },
};
