/** The targets of the benchmark issues, judged on one run's results. */
import { fmt } from './format.js';
import { type Results, type Target, find, ratio } from './results.js';
import type { Scenario } from './scenario.js';

/** Every scenario's targets, in the scenarios' order, then those across scenarios. */
export function judgeTargets(scenarios: readonly Scenario[], results: Results): Target[] {
  return [...scenarios.flatMap((scenario) => scenario.targets(results)), ...memoryTargets(results)];
}

/** Issue 14's comparison with the baseline: askbase's req/s at least `threshold` times its. */
export function versusBaseline(
  results: Pick<Results, 'runs'>,
  scenario: string,
  threshold: number,
): Target[] {
  const askbase = find(results, scenario, 'askbase');
  const baseline = find(results, scenario, 'baseline');
  if (!askbase || !baseline) return [];
  const r = ratio(askbase.load.rps, baseline.load.rps);
  return [
    {
      id: scenario,
      description: `≥ ${threshold}× the baseline's req/s`,
      figure: `${r}×`,
      met: r >= threshold,
    },
  ];
}

/** One askbase process: with WORKERS the sum over the processes is reported, not judged here. */
function memoryTargets(results: Pick<Results, 'runs'>): Target[] {
  const onPostgres = results.runs.filter(
    (r) => r.server === 'askbase' && r.database === 'postgres' && r.scenario !== 'b-workers',
  );
  if (onPostgres.length === 0) return [];
  const worst = onPostgres.reduce((a, b) => (b.samples.peakRssMb > a.samples.peakRssMb ? b : a));
  return [
    {
      id: 'memory',
      description: 'RSS under load ≤ 200 MiB (PostgreSQL)',
      figure: `${fmt(worst.samples.peakRssMb)} MiB in (${worst.scenario})`,
      met: worst.samples.peakRssMb <= 200,
    },
  ];
}
