/**
 * Scenario (k): askbase as an OpenAI-compatible gateway, `POST /v1/chat/completions` stored in
 * PostgreSQL, next to the fake LLM (0 ms) called directly and Portkey's open-source gateway in
 * front of the same fake, all in the same run on the same machine:
 *
 * 1. non-streamed, 100 connections: req/s and p99 of the three (alternating rounds);
 * 2. one connection, one request at a time: p50, and what each gateway adds to the direct p50;
 * 3. streamed: time to the first chunk, one request at a time (askbase, direct, Portkey in
 *    turn), then every row the streamed requests created checked for usage and cost;
 * 4. storage: one 50-turn conversation (each turn sends the whole history, as an OpenAI client
 *    does) against the same text as 50 one-turn exchanges, in row bytes per byte of text.
 */
import { Agent, request } from 'node:http';
import type { LoadSpec } from './load.js';
import type { BenchPostgres } from './postgres.js';
import type { Child } from './processes.js';
import { startPortkey } from './portkey.js';
import type {
  GatewayResult,
  Percentiles,
  RunRecord,
  ServerKind,
  StorageFigure,
} from './results.js';

export const CHAT_PATH = '/v1/chat/completions';
export const MODEL = 'gpt-5-mini';
export const CONNECTIONS = 100;
/** Streamed requests per server, measured, after this many unmeasured ones. */
const TTFT_REQUESTS = 300;
const TTFT_WARMUP = 30;
const TURNS = 50;

/** The targets of scenario (k). */
export const GATEWAY_LIMITS = {
  /** askbase's req/s at 100 connections, at least this times Portkey's. */
  minRpsVsPortkey: 1.0,
  /** What askbase adds to the direct call's p50, one request at a time. */
  maxAddedP50Ms: 1,
  /** askbase's time to the first streamed chunk (p50), at most the direct call's plus this. */
  maxTtftOverDirectMs: 2,
  /** A conversation's row bytes per text byte, at most this times separate exchanges'. */
  maxStorageRatio: 1.5,
};

const QUESTION = 'What is the capital of France?';
const CHAT_BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: QUESTION }] });
const STREAM_BODY = JSON.stringify({
  model: MODEL,
  stream: true,
  messages: [{ role: 'user', content: 'Stream me the capital of France, please.' }],
});

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

interface Endpoint {
  server: GatewayServer;
  headers: Record<string, string>;
}

export async function measureGateway(options: {
  root: string;
  workDir: string;
  /** The environment Portkey's process gets. */
  env: NodeJS.ProcessEnv;
  askbase: GatewayServer;
  /** The fake LLM (0 ms), its baseUrl without /v1. */
  direct: GatewayServer;
  pg: BenchPostgres;
  /** askbase's database. */
  database: string;
  measure: (items: GatewayItem[]) => Promise<RunRecord[]>;
  log: (message: string) => void;
}): Promise<GatewayResult> {
  const { pg, database, log } = options;
  const portkey = await startPortkey({
    root: options.root,
    workDir: options.workDir,
    upstreamBaseUrl: `${options.direct.baseUrl}/v1`,
    env: options.env,
  });
  try {
    const endpoints: Endpoint[] = [
      { server: options.askbase, headers: {} },
      { server: options.direct, headers: {} },
    ];
    if ('skipped' in portkey) {
      log(`(k) Portkey not measured: ${portkey.skipped}`);
    } else {
      log(`(k) Portkey ${portkey.version} on ${portkey.baseUrl}, in front of the fake LLM`);
      endpoints.push({
        server: { kind: 'portkey', child: portkey.child, baseUrl: portkey.baseUrl },
        headers: portkey.headers,
      });
    }
    for (const endpoint of endpoints) await checkAnswer(endpoint);

    const item = (endpoint: Endpoint, scenario: string, connections: number): GatewayItem => ({
      server: endpoint.server,
      scenario,
      label: `POST ${CHAT_PATH}, LLM 0 ms, ${connections === 1 ? '1 conn, one request at a time' : `${connections} conns`}`,
      llmLatencyMs: 0,
      spec: {
        baseUrl: endpoint.server.baseUrl,
        method: 'POST',
        path: CHAT_PATH,
        body: CHAT_BODY,
        headers: endpoint.headers,
        connections,
      },
    });
    await options.measure(endpoints.map((e) => item(e, 'k', CONNECTIONS)));
    await options.measure(endpoints.map((e) => item(e, 'k-seq', 1)));

    log(`(k) streamed: ${TTFT_REQUESTS} requests per server, one at a time, in turn`);
    const before = await maxId(pg, database);
    const { ttft, requests } = await measureTtft(endpoints);
    await drained(pg, database, before, log);
    const [rows] = await pg.query<{ rows: number; missing: number; not_answered: number }>(
      database,
      `select count(*)::int as rows,
              count(*) filter (where prompt_tokens is null or completion_tokens is null
                                  or cost_usd is null)::int as missing,
              count(*) filter (where status <> 'answered')::int as not_answered
         from question_answers where id > $1::bigint`,
      [before],
    );
    const streamedRows = {
      requests: requests.askbase ?? 0,
      rows: rows?.rows ?? 0,
      missingUsageOrCost: rows?.missing ?? 0,
      notAnswered: rows?.not_answered ?? 0,
    };
    log(
      `(k) first chunk p50: ${Object.entries(ttft)
        .map(([kind, p]) => `${kind} ${p.p50Ms} ms`)
        .join(', ')}; askbase rows ${streamedRows.rows}/${streamedRows.requests}, ` +
        `${streamedRows.missingUsageOrCost} without usage or cost`,
    );

    const storage = await measureStorage(options.askbase.baseUrl, pg, database, log);
    return {
      portkey:
        'skipped' in portkey ? portkey : { version: portkey.version, command: portkey.command },
      ttft,
      streamedRows,
      storage,
    };
  } finally {
    if (!('skipped' in portkey)) await portkey.child.stop();
  }
}

/** One request through the endpoint: the fake's answer must come back (and askbase's ids). */
async function checkAnswer({ server, headers }: Endpoint) {
  const response = await fetch(server.baseUrl + CHAT_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: CHAT_BODY,
  });
  const text = await response.text();
  let content: unknown;
  try {
    content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]
      ?.message?.content;
  } catch {
    // reported below
  }
  if (response.status !== 200 || content !== `Answer to: ${QUESTION}`) {
    throw new Error(
      `(k) ${server.kind}: POST ${CHAT_PATH} answered ${response.status}: ${text.slice(0, 300)}`,
    );
  }
  if (server.kind === 'askbase' && !response.headers.get('x-askbase-id')) {
    throw new Error(`(k) askbase: POST ${CHAT_PATH} answered without x-askbase-id`);
  }
}

/** Streamed requests, one at a time, to each endpoint in turn (order reversed every time). */
async function measureTtft(endpoints: Endpoint[]) {
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
        const ms = await firstChunkMs(endpoint, agent);
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

/** ms from sending a streamed request to its first `data: {` chunk; reads it to [DONE]. */
function firstChunkMs({ server, headers }: Endpoint, agent: Agent): Promise<number> {
  const url = new URL(server.baseUrl + CHAT_PATH);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let first: number | undefined;
    let tail = '';
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(STREAM_BODY),
          ...headers,
        },
      },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const seen = tail + chunk;
          if (first === undefined && seen.includes('data: {')) first = performance.now() - started;
          tail = seen.slice(-64);
        });
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200 || first === undefined || !tail.includes('data: [DONE]')) {
            reject(
              new Error(
                `(k) ${server.kind}: streamed POST ${CHAT_PATH}: ${res.statusCode}, ends ${JSON.stringify(tail)}`,
              ),
            );
          } else {
            resolve(first);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(STREAM_BODY);
  });
}

/** The question of turn `i` of the storage conversation: a few hundred bytes, some not ASCII. */
function storageQuestion(i: number): string {
  const topics = ['connection pool', 'write-ahead log', 'query planner', 'vacuum', 'TOAST'];
  const topic = topics[i % topics.length] ?? 'database';
  return (
    `Turn ${i + 1} of ${TURNS}. At the café on rue de l’Église, Zoë asked how the ${topic} ` +
    `behaves under load, what changes between step ${i} and step ${i + 1} of her migration, and ` +
    `which of your earlier answers still holds once the table passes ${(i + 1) * 1000} rows. ` +
    `Answer in a few sentences and say which earlier turn I should re-read.`
  );
}

/** The same 50 questions as one conversation, then as 50 one-turn exchanges. */
async function measureStorage(
  baseUrl: string,
  pg: BenchPostgres,
  database: string,
  log: (message: string) => void,
): Promise<GatewayResult['storage']> {
  const questions = Array.from({ length: TURNS }, (_, i) => storageQuestion(i));
  const textBytes = (answers: string[]) =>
    [...questions, ...answers].reduce((n, text) => n + Buffer.byteLength(text, 'utf8'), 0);

  const start = await maxId(pg, database);
  const history: { role: string; content: string }[] = [];
  const answers: string[] = [];
  for (const question of questions) {
    history.push({ role: 'user', content: question });
    const answer = await chat(baseUrl, history);
    history.push({ role: 'assistant', content: answer });
    answers.push(answer);
  }
  const middle = await maxId(pg, database);
  const separateAnswers: string[] = [];
  for (const question of questions) {
    separateAnswers.push(await chat(baseUrl, [{ role: 'user', content: question }]));
  }
  const end = await maxId(pg, database);
  await drained(pg, database, start, log);

  const figure = async (from: string, to: string, text: number): Promise<StorageFigure> => {
    const [row] = await pg.query<{
      rows: number;
      bytes: string;
      conversations: number;
      with_parent: number;
    }>(
      database,
      `select count(*)::int as rows, coalesce(sum(pg_column_size(q.*)), 0)::text as bytes,
              count(distinct conversation_id)::int as conversations,
              count(parent_id)::int as with_parent
         from question_answers q where id > $1::bigint and id <= $2::bigint`,
      [from, to],
    );
    const rowBytes = Number(row?.bytes ?? 0);
    return {
      rows: row?.rows ?? 0,
      rowBytes,
      textBytes: text,
      bytesPerTextByte: Math.round((rowBytes / Math.max(text, 1)) * 100) / 100,
      conversations: row?.conversations ?? 0,
      withParent: row?.with_parent ?? 0,
    };
  };
  const conversation = await figure(start, middle, textBytes(answers));
  const separate = await figure(middle, end, textBytes(separateAnswers));
  log(
    `(k) storage: ${TURNS}-turn conversation ${conversation.rowBytes} row bytes ` +
      `(${conversation.bytesPerTextByte} per text byte), as separate exchanges ` +
      `${separate.rowBytes} (${separate.bytesPerTextByte})`,
  );
  return { turns: TURNS, conversation, separate };
}

async function chat(baseUrl: string, messages: { role: string; content: string }[]) {
  const response = await fetch(baseUrl + CHAT_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages }),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`(k) askbase: POST ${CHAT_PATH} answered ${response.status}: ${text}`);
  }
  const content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] })
    .choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new Error(`(k) askbase: no answer in ${text}`);
  return content;
}

async function maxId(pg: BenchPostgres, database: string): Promise<string> {
  const [row] = await pg.query<{ id: string }>(
    database,
    'select coalesce(max(id), 0)::text as id from question_answers',
  );
  return row?.id ?? '0';
}

/** Waits until none of the rows after `after` is pending (askbase stores a stream at its end). */
async function drained(
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

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0) * 100) /
    100;
  return { n: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}
