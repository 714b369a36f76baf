/**
 * Scenario (k): askbase as an OpenAI-compatible gateway, against the fake LLM called directly and
 * Portkey in front of it. The measuring is in lib/gateway-chat.ts, lib/gateway-responses.ts and
 * lib/gateway-stream.ts; here are its targets and its section of BENCHMARKS.md.
 */
import { ROOT } from '../lib/config.js';
import { fmt as num } from '../lib/format.js';
import {
  CHAT_PATH,
  CONNECTIONS,
  GATEWAY_LIMITS,
  MODEL,
  measureGateway,
} from '../lib/gateway-chat.js';
import { RESPONSES_PATH } from '../lib/gateway-responses.js';
import { log } from '../lib/log.js';
import { childEnv } from '../lib/processes.js';
import type { Scenario } from '../lib/scenario.js';
import {
  type GatewayResult,
  type Results,
  type RunRecord,
  type ServerKind,
  type StreamedRows,
  type Target,
  find,
  ratio,
} from '../lib/results.js';
import type { Server } from '../lib/servers.js';

const DATABASE = 'askbase_gateway';

export const gateway: Scenario = {
  id: 'k',
  title: 'askbase as an OpenAI-compatible gateway',
  databases: [DATABASE],
  async run({ workDir, pg, fakes, withServers, measure }) {
    const fake0 = fakes.get(0);
    if (!fake0) return undefined;
    const database = { name: DATABASE };
    const result = await withServers(
      ['askbase'],
      0,
      ([askbase]) =>
        measureGateway({
          root: ROOT,
          workDir,
          env: childEnv({}),
          askbase: askbase as Server,
          direct: {
            kind: 'direct',
            child: fake0.child,
            baseUrl: fake0.baseUrl.replace(/\/v1$/, ''),
          },
          pg,
          database: database.name,
          measure: (items) =>
            measure(items.map((item) => ({ ...item, server: { ...item.server, database } }))),
          log,
        }),
      database,
    );
    return { gateway: result };
  },
  targets: gatewayTargets,
  render: renderGateway,
};

const ms2 = (value: number) => String(Math.round(value * 100) / 100);

/** One API of scenario (k): where its runs are and what it measured of streams. */
interface Api {
  path: string;
  /** The runs' scenarios: 100 connections, and one request at a time. */
  scenario: string;
  seqScenario: string;
  /** Target ids start with it; descriptions with `scope`. */
  id: string;
  scope: string;
  /** What a stream's first chunk is, in a target's words. */
  firstChunk: string;
  usage: string;
  ttft: GatewayResult['ttft'];
  streamedRows: StreamedRows;
  /** Why Portkey is not among the runs, if it is not. */
  noPortkey: string;
}

function apis(g: GatewayResult): { chat: Api; responses: Api | undefined } {
  const noPortkey = 'skipped' in g.portkey ? `Portkey not measured: ${g.portkey.skipped}` : '';
  const r = g.responses;
  return {
    chat: {
      path: CHAT_PATH,
      scenario: 'k',
      seqScenario: 'k-seq',
      id: 'k',
      scope: '(k)',
      firstChunk: 'the first chunk',
      usage: 'every streamed exchange stored, answered, with usage and cost',
      ttft: g.ttft,
      streamedRows: g.streamedRows,
      noPortkey,
    },
    responses: r && {
      path: RESPONSES_PATH,
      scenario: 'k-responses',
      seqScenario: 'k-responses-seq',
      id: 'k-responses',
      scope: `(k) ${RESPONSES_PATH},`,
      firstChunk: 'the first `response.output_text.delta`',
      usage: "every streamed response stored (kind 'response'), answered, with usage and cost",
      ttft: r.ttft,
      streamedRows: r.streamedRows,
      noPortkey:
        r.portkey === 'measured'
          ? ''
          : `Portkey not measured for ${RESPONSES_PATH}: ${r.portkey.skipped}`,
    },
  };
}

/** Scenario (k)'s targets: the same for each API, then the chain of responses. */
function gatewayTargets(results: Pick<Results, 'runs' | 'gateway'>): Target[] {
  const g = results.gateway;
  if (!g) return [];
  const { chat, responses } = apis(g);
  const targets = apiTargets(results, chat);
  const { conversation: c, separate: p } = g.storage;
  const storageRatio = ratio(c.bytesPerTextByte, p.bytesPerTextByte);
  targets.push({
    id: 'k-storage',
    description: `(k) a ${g.storage.turns}-turn conversation: row bytes per text byte ≤ ${GATEWAY_LIMITS.maxStorageRatio}× the same text as ${g.storage.turns} separate exchanges`,
    figure: `${c.bytesPerTextByte} vs ${p.bytesPerTextByte} = ${storageRatio}× (${num(c.rowBytes)} vs ${num(p.rowBytes)} bytes for ${num(c.textBytes)} bytes of text; ${c.withParent}/${g.storage.turns - 1} turns joined)`,
    met:
      c.rows === g.storage.turns &&
      storageRatio > 0 &&
      storageRatio <= GATEWAY_LIMITS.maxStorageRatio,
  });
  if (responses) targets.push(...apiTargets(results, responses));
  const chain = g.responses?.chain;
  if (chain) {
    const joined = chain.chains * (chain.turns - 1);
    targets.push({
      id: 'k-responses-chain',
      description: `(k) ${RESPONSES_PATH}, ${chain.chains} chains of ${chain.turns} turns by \`previous_response_id\`, each turn sent as soon as the last was answered: every turn answered and joined to the one before`,
      figure: `${chain.withParent}/${joined} turns joined, ${chain.conversations} conversations, ${chain.rows} rows; per turn p50 ${chain.continuing.p50Ms} ms (p99 ${chain.continuing.p99Ms}), turns 2–10 ${chain.early.p50Ms} ms, last 10 ${chain.late.p50Ms} ms; one-turn responses ${chain.single.p50Ms} ms`,
      met:
        chain.rows === chain.chains * chain.turns &&
        chain.withParent === joined &&
        chain.conversations === chain.chains,
    });
  }
  return targets;
}

function apiTargets(results: Pick<Results, 'runs' | 'gateway'>, api: Api): Target[] {
  const L = GATEWAY_LIMITS;
  const run = (scenario: string, kind: ServerKind) => find(results, scenario, kind);
  const askbase = run(api.scenario, 'askbase');
  const direct = run(api.scenario, 'direct');
  const portkey = run(api.scenario, 'portkey');
  const noPortkey = api.noPortkey || 'Portkey not measured';
  const targets: Target[] = [];
  if (askbase) {
    const r = portkey ? ratio(askbase.load.rps, portkey.load.rps) : 0;
    targets.push(
      {
        id: `${api.id}-throughput`,
        description: `(k) POST ${api.path}, LLM 0 ms, ${CONNECTIONS} connections: askbase ≥ ${L.minRpsVsPortkey}× Portkey's req/s, no errors`,
        figure: portkey
          ? `${num(askbase.load.rps)} / ${num(portkey.load.rps)} req/s = ${r}× (direct ${num(direct?.load.rps ?? 0)} req/s); errors: askbase ${askbase.load.errors}, Portkey ${portkey.load.errors}`
          : `${noPortkey}; askbase ${num(askbase.load.rps)} req/s, direct ${num(direct?.load.rps ?? 0)} req/s; errors: askbase ${askbase.load.errors}`,
        met: !!portkey && r >= L.minRpsVsPortkey && askbase.load.errors === 0,
      },
      {
        id: `${api.id}-p99`,
        description: `${api.scope} the same: askbase's p99 ≤ Portkey's`,
        figure: portkey
          ? `${askbase.load.p99Ms} vs ${portkey.load.p99Ms} ms (direct ${direct?.load.p99Ms ?? '–'} ms)`
          : `${noPortkey}; askbase ${askbase.load.p99Ms} ms, direct ${direct?.load.p99Ms ?? '–'} ms`,
        met: !!portkey && askbase.load.p99Ms <= portkey.load.p99Ms,
      },
    );
  }
  const seq = { askbase: run(api.seqScenario, 'askbase'), direct: run(api.seqScenario, 'direct') };
  const seqPortkey = run(api.seqScenario, 'portkey');
  if (seq.askbase && seq.direct) {
    const added = seq.askbase.load.p50Ms - seq.direct.load.p50Ms;
    targets.push({
      id: `${api.id}-added-latency`,
      description: `${api.scope} one request at a time: askbase adds ≤ ${L.maxAddedP50Ms} ms to the direct call's p50`,
      figure:
        `${ms2(added)} ms (p50 ${seq.askbase.load.p50Ms} vs ${seq.direct.load.p50Ms} ms)` +
        (seqPortkey
          ? `; Portkey adds ${ms2(seqPortkey.load.p50Ms - seq.direct.load.p50Ms)} ms`
          : ''),
      met: added <= L.maxAddedP50Ms,
    });
  }
  const ttftA = api.ttft.askbase;
  const ttftD = api.ttft.direct;
  if (ttftA && ttftD) {
    targets.push({
      id: `${api.id}-ttft`,
      description: `${api.scope} streamed: askbase's time to ${api.firstChunk} (p50) ≤ the direct call's + ${L.maxTtftOverDirectMs} ms`,
      figure:
        `${ttftA.p50Ms} vs ${ttftD.p50Ms} ms (+${ms2(ttftA.p50Ms - ttftD.p50Ms)} ms)` +
        (api.ttft.portkey ? `; Portkey ${api.ttft.portkey.p50Ms} ms` : ''),
      met: ttftA.p50Ms <= ttftD.p50Ms + L.maxTtftOverDirectMs,
    });
  }
  const s = api.streamedRows;
  targets.push({
    id: `${api.id}-usage`,
    description: `${api.scope} ${api.usage}`,
    figure: `${s.rows} rows for ${s.requests} requests; ${s.missingUsageOrCost} without usage or cost, ${s.notAnswered} not answered`,
    met: s.rows === s.requests && s.missingUsageOrCost === 0 && s.notAnswered === 0,
  });
  return targets;
}

/** Scenario (k)'s section of the generated block of BENCHMARKS.md. */
function renderGateway(results: Pick<Results, 'runs' | 'gateway'>): string[] {
  const g = results.gateway;
  if (!g) return [];
  const { chat, responses } = apis(g);
  const portkey =
    'skipped' in g.portkey
      ? `Portkey was not measured: ${g.portkey.skipped}.`
      : `Portkey is \`@portkey-ai/gateway\` ${g.portkey.version}, started as \`${g.portkey.command}\` (127.0.0.1 only, its defaults otherwise; its \`@hono/node-server\` pinned to 1.14.1, as later versions break its streaming, Portkey-AI/gateway#1389), routed to the fake with \`x-portkey-provider: openai\` and \`x-portkey-custom-host\`.`;
  const { conversation: c, separate: p } = g.storage;
  return [
    '',
    '### askbase as an OpenAI-compatible gateway (k)',
    '',
    `\`POST ${CHAT_PATH}\` (\`${MODEL}\`, one short user message) to askbase on PostgreSQL, to the fake LLM (0 ms) directly, and to Portkey in front of the same fake, in alternating rounds. ${portkey} The streamed requests go one at a time to each in turn (${g.ttft.askbase?.n ?? 0} measured each); the first chunk is the first \`data: {…}\` event.`,
    '',
    ...apiTable(results, chat, 'streamed: first chunk p50 ms (p99)'),
    '',
    `The streamed requests left ${g.streamedRows.rows} rows in askbase (${g.streamedRows.requests} requests); ${g.streamedRows.missingUsageOrCost} lack usage or cost.`,
    '',
    `Storage: ${g.storage.turns} user messages and their answers, sent as one conversation (each turn carries the whole history) and as ${g.storage.turns} one-turn exchanges; bytes are \`sum(pg_column_size(row))\` over the rows each created (TOAST included, indexes not).`,
    '',
    '| stored as | rows | turns joined | row bytes | text bytes | row bytes per text byte |',
    '| --- | --: | --: | --: | --: | --: |',
    `| one conversation | ${c.rows} | ${c.withParent} | ${num(c.rowBytes)} | ${num(c.textBytes)} | ${c.bytesPerTextByte} |`,
    `| separate exchanges | ${p.rows} | ${p.withParent} | ${num(p.rowBytes)} | ${num(p.textBytes)} | ${p.bytesPerTextByte} |`,
    ...(responses && g.responses ? renderResponses(results, responses, g.responses) : []),
  ];
}

/** The rows every API of (k) has: its runs and its streams, askbase, direct and Portkey. */
function apiTable(results: Pick<Results, 'runs'>, api: Api, firstChunk: string): string[] {
  const kinds: ServerKind[] = ['askbase', 'direct', 'portkey'];
  const cell = (scenario: string, pick: (run: RunRecord) => string) =>
    kinds.map((kind) => {
      const run = find(results, scenario, kind);
      return run ? pick(run) : '–';
    });
  const directSeq = find(results, api.seqScenario, 'direct')?.load.p50Ms;
  const rows: [string, string[]][] = [
    [`req/s, ${CONNECTIONS} connections`, cell(api.scenario, (r) => num(r.load.rps))],
    [`p99 ms, ${CONNECTIONS} connections`, cell(api.scenario, (r) => String(r.load.p99Ms))],
    ['p50 ms, one request at a time', cell(api.seqScenario, (r) => String(r.load.p50Ms))],
    [
      'added to the direct p50, ms',
      cell(api.seqScenario, (r) => (directSeq === undefined ? '–' : ms2(r.load.p50Ms - directSeq))),
    ],
    [
      firstChunk,
      kinds.map((kind) => {
        const p = api.ttft[kind];
        return p ? `${p.p50Ms} (${p.p99Ms})` : '–';
      }),
    ],
  ];
  return [
    '| measure | askbase | direct (fake LLM) | Portkey |',
    '| --- | --: | --: | --: |',
    ...rows.map(([name, values]) => `| ${name} | ${values.join(' | ')} |`),
  ];
}

function renderResponses(
  results: Pick<Results, 'runs'>,
  api: Api,
  r: NonNullable<GatewayResult['responses']>,
): string[] {
  const { chain } = r;
  const portkey =
    r.portkey === 'measured'
      ? "Portkey forwards it to the fake's `/v1/responses` (its `createModelResponse`, same headers as above)."
      : `Portkey was not measured for it: ${r.portkey.skipped}.`;
  return [
    '',
    `\`POST ${RESPONSES_PATH}\` (\`${MODEL}\`, \`input\` one short question), measured the same way: askbase forwards it to the fake's own \`${RESPONSES_PATH}\` (\`RESPONSES_API=auto\`, the default) and answers once the response is recorded. ${portkey} The first chunk of a stream is its first \`response.output_text.delta\` event (${r.ttft.askbase?.n ?? 0} measured each); askbase sends \`response.completed\` last, once it is recorded.`,
    '',
    ...apiTable(results, api, 'streamed: first output_text delta p50 ms (p99)'),
    '',
    `The streamed responses left ${r.streamedRows.rows} rows of kind \`response\` in askbase (${r.streamedRows.requests} requests); ${r.streamedRows.missingUsageOrCost} lack usage or cost.`,
    '',
    `Chained: ${chain.chains} chains of ${chain.turns} responses, each turn sent with the one before as its \`previous_response_id\` the moment that one was answered (askbase takes the history from its store and sends it whole to the fake), one request at a time over one connection; after each chain, the same ${chain.turns} questions as one-turn responses. ${chain.withParent} of ${chain.chains * (chain.turns - 1)} turns were joined to their previous one, in ${chain.conversations} conversations.`,
    '',
    '| askbase, one request at a time | p50 ms | p99 ms |',
    '| --- | --: | --: |',
    ...(
      [
        [`turns 2–${chain.turns}, by previous_response_id`, chain.continuing],
        ['turns 2–10', chain.early],
        [`turns ${chain.turns - 9}–${chain.turns}`, chain.late],
        ['the same questions, one-turn responses', chain.single],
      ] as const
    ).map(([name, p]) => `| ${name} | ${p.p50Ms} | ${p.p99Ms} |`),
  ];
}
