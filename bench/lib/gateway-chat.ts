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
 *    does) against the same text as 50 one-turn exchanges, in row bytes per byte of text;
 * 5. `POST /v1/responses` the same way as 1–3, and a chain of responses by
 *    `previous_response_id` (gateway-responses.ts).
 */
import type { BenchPostgres } from './postgres.js';
import { startPortkey } from './portkey.js';
import { measureResponses } from './gateway-responses.js';
import {
  CONNECTIONS,
  type Endpoint,
  type GatewayItem,
  type GatewayServer,
  MODEL,
  TTFT_REQUESTS,
  drained,
  maxId,
  measureTtft,
  streamedRows,
} from './gateway-stream.js';
import type { GatewayResult, RunRecord, StorageFigure } from './results.js';

export { CONNECTIONS, MODEL };
export const CHAT_PATH = '/v1/chat/completions';
const TURNS = 50;

/** The targets of scenario (k), the same for /v1/chat/completions and /v1/responses. */
export const GATEWAY_LIMITS = {
  /** askbase's req/s at 100 connections, at least this times Portkey's. */
  minRpsVsPortkey: 1.0,
  /** What askbase adds to the direct call's p50, one request at a time. */
  maxAddedP50Ms: 1,
  /** askbase's time to the first streamed chunk (p50), at most the direct call's plus this. */
  maxTtftOverDirectMs: 2,
  /** A conversation's row bytes per text byte, at most this times separate exchanges' (chat). */
  maxStorageRatio: 1.5,
};

const QUESTION = 'What is the capital of France?';
const CHAT_BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: QUESTION }] });
const STREAM = {
  path: CHAT_PATH,
  body: JSON.stringify({
    model: MODEL,
    stream: true,
    messages: [{ role: 'user', content: 'Stream me the capital of France, please.' }],
  }),
  first: 'data: {',
  end: 'data: [DONE]',
};

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
  const { pg, database, measure, log } = options;
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
    await measure(endpoints.map((e) => item(e, 'k', CONNECTIONS)));
    await measure(endpoints.map((e) => item(e, 'k-seq', 1)));

    log(`(k) streamed: ${TTFT_REQUESTS} requests per server, one at a time, in turn`);
    const before = await maxId(pg, database);
    const { ttft, requests } = await measureTtft(endpoints, STREAM);
    await drained(pg, database, before, log);
    const streamed = await streamedRows(pg, database, before, 'chat', requests.askbase ?? 0);
    log(
      `(k) first chunk p50: ${Object.entries(ttft)
        .map(([kind, p]) => `${kind} ${p.p50Ms} ms`)
        .join(', ')}; askbase rows ${streamed.rows}/${streamed.requests}, ` +
        `${streamed.missingUsageOrCost} without usage or cost`,
    );

    const storage = await measureStorage(options.askbase.baseUrl, pg, database, log);
    // Last, so that the chat figures above are taken as they were before /v1/responses.
    const responses = await measureResponses({ endpoints, pg, database, measure, log });
    return {
      portkey:
        'skipped' in portkey ? portkey : { version: portkey.version, command: portkey.command },
      ttft,
      streamedRows: streamed,
      storage,
      responses,
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
