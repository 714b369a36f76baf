/**
 * What scenario (k) measures alike for `/v1/chat/completions` and `/v1/responses`: the time to
 * a stream's first chunk, one request at a time to each server in turn, and the rows askbase
 * stored for the streamed requests (gateway-chat.ts and gateway-responses.ts use it).
 */
import { Agent, type RequestOptions, request } from 'node:http';
import type { BenchPostgres } from './postgres.js';
import type { LoadSpec } from './load.js';
import type { Child } from './processes.js';
import type { Percentiles, ServerKind, StreamedRows } from './results.js';

export const MODEL = 'gpt-5-mini';
/** Connections of the throughput runs. */
export const CONNECTIONS = 100;
/** Streamed requests per server, measured, after this many unmeasured ones. */
export const TTFT_REQUESTS = 300;
const TTFT_WARMUP = 30;

export interface GatewayServer {
  kind: ServerKind;
  child: Child;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
}

/** One thing for run.ts's measure(): a request mix against one server. */
export interface GatewayItem {
  server: GatewayServer;
  scenario: string;
  label: string;
  spec: LoadSpec;
  llmLatencyMs: number;
}

/** A server and the headers that route a request through it to the fake LLM. */
export interface Endpoint {
  server: GatewayServer;
  headers: Record<string, string>;
}

/** One streamed request, and how its first chunk and its end are recognised. */
export interface StreamSpec {
  path: string;
  body: string;
  /** Text whose first appearance in the stream is its first chunk (`data: {`, say). */
  first: string;
  /** Text that must have appeared by the stream's end (`data: [DONE]`, say). */
  end: string;
}

/** Streamed requests, one at a time, to each endpoint in turn (order reversed every time). */
export async function measureTtft(endpoints: Endpoint[], stream: StreamSpec) {
  const agents = endpoints.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const times = endpoints.map((): number[] => []);
  const requests: Partial<Record<ServerKind, number>> = {};
  try {
    for (let i = 0; i < TTFT_WARMUP + TTFT_REQUESTS; i++) {
      const order = endpoints.map((_, j) => j);
      if (i % 2 === 1) order.reverse();
      for (const j of order) {
        const endpoint = endpoints[j];
        const agent = agents[j];
        if (!endpoint || !agent) continue;
        const ms = await firstChunkMs(endpoint, agent, stream);
        const kind = endpoint.server.kind;
        requests[kind] = (requests[kind] ?? 0) + 1;
        if (i >= TTFT_WARMUP) times[j]?.push(ms);
      }
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  const ttft: Partial<Record<ServerKind, Percentiles>> = {};
  endpoints.forEach((endpoint, j) => (ttft[endpoint.server.kind] = percentiles(times[j] ?? [])));
  return { ttft, requests };
}

/** ms from sending a streamed request to the first `stream.first`; reads it to its end. */
function firstChunkMs(
  { server, headers }: Endpoint,
  agent: Agent,
  stream: StreamSpec,
): Promise<number> {
  const url = new URL(server.baseUrl + stream.path);
  // Enough of the previous chunk that a marker split between two chunks is still seen.
  const keep = Math.max(64, stream.first.length, stream.end.length);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let first: number | undefined;
    let ended = false;
    let tail = '';
    const req = request(jsonPost(agent, url, stream.body, headers), (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const seen = tail + chunk;
        if (first === undefined && seen.includes(stream.first)) {
          first = performance.now() - started;
        }
        if (!ended && seen.includes(stream.end)) ended = true;
        tail = seen.slice(-keep);
      });
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200 || first === undefined || !ended) {
          reject(
            new Error(
              `(k) ${server.kind}: streamed POST ${stream.path}: ${res.statusCode}, ` +
                `${first === undefined ? `no ${stream.first}` : `no ${stream.end}`}, ` +
                `ends ${JSON.stringify(tail)}`,
            ),
          );
        } else {
          resolve(first);
        }
      });
    });
    req.on('error', reject);
    req.end(stream.body);
  });
}

/** The rows of `kind` after id `before`: how many, and how many lack usage or cost. */
export async function streamedRows(
  pg: BenchPostgres,
  database: string,
  before: string,
  kind: 'chat' | 'response',
  requests: number,
): Promise<StreamedRows> {
  const [rows] = await pg.query<{ rows: number; missing: number; not_answered: number }>(
    database,
    `select count(*)::int as rows,
            count(*) filter (where prompt_tokens is null or completion_tokens is null
                                or cost_usd is null)::int as missing,
            count(*) filter (where status <> 'answered')::int as not_answered
       from question_answers where id > $1::bigint and kind = $2`,
    [before, kind],
  );
  return {
    requests,
    rows: rows?.rows ?? 0,
    missingUsageOrCost: rows?.missing ?? 0,
    notAnswered: rows?.not_answered ?? 0,
  };
}

export async function maxId(pg: BenchPostgres, database: string): Promise<string> {
  const [row] = await pg.query<{ id: string }>(
    database,
    'select coalesce(max(id), 0)::text as id from question_answers',
  );
  return row?.id ?? '0';
}

/** Waits until none of the rows after `after` is pending (askbase stores a stream at its end). */
export async function drained(
  pg: BenchPostgres,
  database: string,
  after: string,
  log: (message: string) => void,
) {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const [row] = await pg.query<{ n: number }>(
      database,
      `select count(*)::int as n from question_answers
        where id > $1::bigint and status = 'pending'`,
      [after],
    );
    if (row?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  log('(k) rows still pending 30 s after their requests');
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0) * 100) /
    100;
  return { n: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** A JSON POST to `url` on a kept-alive `agent`, as node:http's request takes it. */
export function jsonPost(
  agent: Agent,
  url: URL,
  body: string,
  headers: Record<string, string> = {},
): RequestOptions {
  return {
    agent,
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...headers,
    },
  };
}
