/** The key figures of autocannon runs as one compact Markdown table, a row per run. */
import { fmt } from './format.js';
import type { RunRecord } from './results.js';

/** Rows named by `name`; runs that were not measured are left out. Errors, if any, by req/s. */
export function runTable(
  nameHeader: string,
  rows: [name: string, run: RunRecord | undefined][],
): string[] {
  const measured = rows.filter((row): row is [string, RunRecord] => row[1] !== undefined);
  if (measured.length === 0) return [];
  return [
    `| ${nameHeader} | req/s | p50 ms | p99 ms | RSS MiB | CPU ms/req |`,
    '| --- | --: | --: | --: | --: | --: |',
    ...measured.map(
      ([name, run]) =>
        `| ${name} | ${fmt(run.load.rps)}${run.load.errors > 0 ? ` (${run.load.errors} errors)` : ''} | ${run.load.p50Ms} | ${run.load.p99Ms} | ${fmt(run.samples.peakRssMb)} | ${run.cpuMsPerRequest} |`,
    ),
  ];
}
