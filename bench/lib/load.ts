import autocannon, { type Request } from 'autocannon';

export interface LoadSpec {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  connections: number;
  /** Request headers besides content-type (a gateway's routing headers, say). */
  headers?: Record<string, string>;
  /** Rewrites each request's path (e.g. a random id); called per request. */
  pathFor?: () => string;
}

/** One measured window of an autocannon run, kept raw so several can be summed. */
export interface Round {
  /** Every response of the run, warm-up included (for CPU time per request). */
  allResponses: number;
  durationS: number;
  completed: number;
  ok2xx: number;
  non2xx: number;
  socketErrors: number;
  timeouts: number;
  /** The latency in ms of every response in the window, as autocannon measured it. */
  latencies: number[];
}

export interface LoadResult {
  /** Completed responses (any status) per second of measured time. */
  rps: number;
  /** Closed-loop steady state by Little's law: connections / mean latency. */
  rpsLittle: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  completed: number;
  ok2xx: number;
  non2xx: number;
  /** Socket errors and timeouts, as autocannon counts them. */
  socketErrors: number;
  timeouts: number;
  /** non-2xx responses plus socket errors. */
  errors: number;
  durationS: number;
  rounds: number;
  /** Responses of all rounds, warm-ups included. */
  allResponses: number;
}

/**
 * One closed-loop autocannon run of `warmupS + durationS` seconds: `connections` clients, each
 * sending as soon as it is answered. Only what completes after the warm-up counts, so the
 * connections' setup and the server's warm-up stay out of the figures.
 */
export async function runRound(spec: LoadSpec, warmupS: number, durationS: number): Promise<Round> {
  const headers: Record<string, string> = {
    ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...spec.headers,
  };
  const pathFor = spec.pathFor;
  const round: Round = {
    allResponses: 0,
    durationS: 0,
    completed: 0,
    ok2xx: 0,
    non2xx: 0,
    socketErrors: 0,
    timeouts: 0,
    latencies: [],
  };
  const started = performance.now();
  const measureFrom = started + warmupS * 1000;
  const instance = autocannon({
    url: spec.baseUrl,
    connections: spec.connections,
    duration: warmupS + durationS,
    timeout: 30,
    requests: [
      {
        method: spec.method,
        path: spec.path,
        headers,
        ...(spec.body === undefined ? {} : { body: spec.body }),
        ...(pathFor
          ? { setupRequest: (request: Request) => ({ ...request, path: pathFor() }) }
          : {}),
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    round.allResponses += 1;
    if (performance.now() < measureFrom) return;
    round.completed += 1;
    if (status >= 200 && status < 300) round.ok2xx += 1;
    else round.non2xx += 1;
    round.latencies.push(ms);
  });
  instance.on('reqError', (error: Error) => {
    if (performance.now() < measureFrom) return;
    round.socketErrors += 1;
    if (error.message === 'request timed out') round.timeouts += 1;
  });
  await instance;
  round.durationS = (performance.now() - measureFrom) / 1000;
  return round;
}

/** Sums rounds into one result; percentiles over every response of every round. */
export function summarize(spec: LoadSpec, rounds: Round[]): LoadResult {
  const sum = (pick: (round: Round) => number) => rounds.reduce((n, r) => n + pick(r), 0);
  const latencies = new Float64Array(rounds.flatMap((r) => r.latencies)).sort();
  const percentile = (p: number) =>
    latencies.length === 0
      ? 0
      : round1(latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? 0);
  const meanMs =
    latencies.length === 0 ? 0 : latencies.reduce((a, b) => a + b, 0) / latencies.length;
  const durationS = sum((r) => r.durationS);
  const completed = sum((r) => r.completed);
  const non2xx = sum((r) => r.non2xx);
  const socketErrors = sum((r) => r.socketErrors);
  return {
    rps: durationS > 0 ? round1(completed / durationS) : 0,
    rpsLittle: meanMs > 0 ? round1(spec.connections / (meanMs / 1000)) : 0,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    meanMs: round1(meanMs),
    maxMs: round1(latencies.at(-1) ?? 0),
    completed,
    ok2xx: sum((r) => r.ok2xx),
    non2xx,
    socketErrors,
    timeouts: sum((r) => r.timeouts),
    errors: non2xx + socketErrors,
    durationS: round1(durationS),
    rounds: rounds.length,
    allResponses: sum((r) => r.allResponses),
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
