/**
 * Scenario (k) for `POST /v1/responses` (OpenAI's Responses API), measured as gateway-chat.ts
 * measures `/v1/chat/completions`: askbase (forwarding to the fake's own /v1/responses, its
 * RESPONSES_API=auto default), the fake LLM (0 ms) directly, and Portkey in front of the same
 * fake, with the same client and the same rounds:
 *
 * 1. non-streamed, 100 connections: req/s and p99 (scenario `k-responses`);
 * 2. one connection, one request at a time: p50 and what each gateway adds (`k-responses-seq`);
 * 3. streamed: time to the first `response.output_text.delta` event, one request at a time to
 *    each in turn, then every row (kind 'response') they created checked for usage and cost;
 * 4. askbase alone: chains of responses, each turn sent by `previous_response_id` the moment
 *    the last one ended, per-turn latency against one-turn responses sent by the same client.
 */
import { Agent, request } from 'node:http';
import type { BenchPostgres } from './postgres.js';
import {
  CONNECTIONS,
  type Endpoint,
  type GatewayItem,
  MODEL,
  TTFT_REQUESTS,
  drained,
  jsonPost,
  maxId,
  measureTtft,
  percentiles,
  streamedRows,
} from './gateway-stream.js';
import type { ResponsesChain, ResponsesGatewayResult, RunRecord } from './results.js';

export const RESPONSES_PATH = '/v1/responses';
/** Chains of CHAIN_TURNS responses each, and as many one-turn responses, alternating. */
export const CHAINS = 4;
export const CHAIN_TURNS = 50;

const QUESTION = 'What is the capital of France?';
const BODY = JSON.stringify({ model: MODEL, input: QUESTION });
const STREAM = {
  path: RESPONSES_PATH,
  body: JSON.stringify({
    model: MODEL,
    stream: true,
    input: 'Stream me the capital of France, please.',
  }),
  first: '"type":"response.output_text.delta"',
  end: '"type":"response.completed"',
};

export async function measureResponses(options: {
  /** askbase, the fake directly, and Portkey when it runs, as scenario (k) set them up. */
  endpoints: Endpoint[];
  pg: BenchPostgres;
  /** askbase's database. */
  database: string;
  measure: (items: GatewayItem[]) => Promise<RunRecord[]>;
  log: (message: string) => void;
}): Promise<ResponsesGatewayResult> {
  const { pg, database, measure, log } = options;
  const endpoints: Endpoint[] = [];
  let portkey: ResponsesGatewayResult['portkey'] = { skipped: 'Portkey did not run' };
  for (const endpoint of options.endpoints) {
    const refused = await checkAnswer(endpoint);
    if (refused === undefined) {
      endpoints.push(endpoint);
      if (endpoint.server.kind === 'portkey') portkey = 'measured';
    } else if (endpoint.server.kind === 'portkey') {
      // Portkey stays in the chat figures; here it is left out, with the reason reported.
      portkey = { skipped: refused };
      log(`(k) Portkey not measured for ${RESPONSES_PATH}: ${refused}`);
    } else {
      throw new Error(refused);
    }
  }

  const item = (endpoint: Endpoint, scenario: string, connections: number): GatewayItem => ({
    server: endpoint.server,
    scenario,
    label: `POST ${RESPONSES_PATH}, LLM 0 ms, ${connections === 1 ? '1 conn, one request at a time' : `${connections} conns`}`,
    llmLatencyMs: 0,
    spec: {
      baseUrl: endpoint.server.baseUrl,
      method: 'POST',
      path: RESPONSES_PATH,
      body: BODY,
      headers: endpoint.headers,
      connections,
    },
  });
  await measure(endpoints.map((e) => item(e, 'k-responses', CONNECTIONS)));
  await measure(endpoints.map((e) => item(e, 'k-responses-seq', 1)));

  log(`(k) streamed ${RESPONSES_PATH}: ${TTFT_REQUESTS} requests per server, one at a time`);
  const before = await maxId(pg, database);
  const { ttft, requests } = await measureTtft(endpoints, STREAM);
  await drained(pg, database, before, log);
  const rows = await streamedRows(pg, database, before, 'response', requests.askbase ?? 0);
  log(
    `(k) ${RESPONSES_PATH} first output_text delta p50: ${Object.entries(ttft)
      .map(([kind, p]) => `${kind} ${p.p50Ms} ms`)
      .join(', ')}; askbase rows ${rows.rows}/${rows.requests}, ` +
      `${rows.missingUsageOrCost} without usage or cost`,
  );

  const askbase = endpoints.find((e) => e.server.kind === 'askbase');
  if (!askbase) throw new Error('(k) askbase is not among the endpoints');
  const chain = await measureChains(askbase.server.baseUrl, pg, database);
  log(
    `(k) ${CHAINS} chains of ${CHAIN_TURNS} responses by previous_response_id: per turn p50 ` +
      `${chain.continuing.p50Ms} ms (p99 ${chain.continuing.p99Ms}), turns 2–10 ` +
      `${chain.early.p50Ms} ms, last 10 ${chain.late.p50Ms} ms; one-turn ${chain.single.p50Ms} ms; ` +
      `${chain.withParent}/${CHAINS * (CHAIN_TURNS - 1)} turns joined, ` +
      `${chain.conversations} conversations`,
  );
  return { portkey, ttft, streamedRows: rows, chain };
}

/**
 * One request through the endpoint: the fake's answer must come back (and askbase's ids).
 * Returns what went wrong, or undefined.
 */
async function checkAnswer({ server, headers }: Endpoint): Promise<string | undefined> {
  const response = await fetch(server.baseUrl + RESPONSES_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: BODY,
  });
  const text = await response.text();
  if (response.status !== 200 || outputText(text) !== `Answer to: ${QUESTION}`) {
    return `(k) ${server.kind}: POST ${RESPONSES_PATH} answered ${response.status}: ${text.slice(0, 300)}`;
  }
  if (server.kind === 'askbase' && !response.headers.get('x-askbase-id')) {
    return `(k) askbase: POST ${RESPONSES_PATH} answered without x-askbase-id`;
  }
  return undefined;
}

/** The text of a Response's first message, or undefined. */
function outputText(text: string): string | undefined {
  try {
    const response = JSON.parse(text) as {
      output?: { type?: string; content?: { type?: string; text?: unknown }[] }[];
    };
    const message = response.output?.find((item) => item.type === 'message');
    const part = message?.content?.find((p) => p.type === 'output_text')?.text;
    return typeof part === 'string' ? part : undefined;
  } catch {
    return undefined;
  }
}

function chainQuestion(i: number): string {
  return `Turn ${i + 1} of ${CHAIN_TURNS}: and what follows from your last answer?`;
}

/**
 * CHAINS chains of CHAIN_TURNS responses (each turn's `previous_response_id` the turn before,
 * sent as soon as it was answered), each chain followed by the same questions as one-turn
 * responses, over one keep-alive connection; then the chains' rows.
 */
async function measureChains(
  baseUrl: string,
  pg: BenchPostgres,
  database: string,
): Promise<ResponsesChain> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const continuing: number[] = [];
  const early: number[] = [];
  const late: number[] = [];
  const single: number[] = [];
  const ids: string[] = [];
  try {
    for (let c = 0; c < CHAINS; c++) {
      let previous: string | undefined;
      for (let i = 0; i < CHAIN_TURNS; i++) {
        const body = {
          model: MODEL,
          input: chainQuestion(i),
          ...(previous && { previous_response_id: previous }),
        };
        const { ms, response, askbaseId } = await post(agent, baseUrl, body);
        previous = response.id;
        ids.push(askbaseId);
        if (i === 0) continue;
        continuing.push(ms);
        if (i < 10) early.push(ms);
        if (i >= CHAIN_TURNS - 10) late.push(ms);
      }
      for (let i = 0; i < CHAIN_TURNS; i++) {
        single.push((await post(agent, baseUrl, { model: MODEL, input: chainQuestion(i) })).ms);
      }
    }
  } finally {
    agent.destroy();
  }
  const [row] = await pg.query<{ rows: number; conversations: number; with_parent: number }>(
    database,
    `select count(*)::int as rows, count(distinct conversation_id)::int as conversations,
            count(parent_id)::int as with_parent
       from question_answers where id = any($1::bigint[]) and kind = 'response'`,
    [ids],
  );
  return {
    chains: CHAINS,
    turns: CHAIN_TURNS,
    continuing: percentiles(continuing),
    early: percentiles(early),
    late: percentiles(late),
    single: percentiles(single),
    rows: row?.rows ?? 0,
    conversations: row?.conversations ?? 0,
    withParent: row?.with_parent ?? 0,
  };
}

/** One non-streamed POST /v1/responses to askbase: its time, its Response, its row's id. */
function post(
  agent: Agent,
  baseUrl: string,
  body: Record<string, unknown>,
): Promise<{ ms: number; response: { id: string }; askbaseId: string }> {
  const url = new URL(baseUrl + RESPONSES_PATH);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(jsonPost(agent, url, payload), (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => {
        const ms = performance.now() - started;
        let id: unknown;
        try {
          id = (JSON.parse(text) as { id?: unknown }).id;
        } catch {
          // reported below
        }
        const askbaseId = res.headers['x-askbase-id'];
        if (res.statusCode !== 200 || typeof id !== 'string' || typeof askbaseId !== 'string') {
          reject(
            new Error(
              `(k) askbase: POST ${RESPONSES_PATH} ${payload.slice(0, 200)} answered ` +
                `${res.statusCode}: ${text.slice(0, 300)}`,
            ),
          );
        } else {
          resolve({ ms, response: { id }, askbaseId });
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
