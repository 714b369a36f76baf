/**
 * Scenario (k): askbase as an OpenAI-compatible gateway, against the fake LLM called directly and
 * Portkey in front of it. The measuring is in lib/gateway-chat.ts, lib/gateway-responses.ts and
 * lib/gateway-stream.ts; here are its targets and its section of BENCHMARKS.md.
 */
import { ROOT } from '../lib/config.js';
import { fmt } from '../lib/format.js';
import { CHAT_PATH, CONNECTIONS, GATEWAY_LIMITS, measureGateway } from '../lib/gateway-chat.js';
import { RESPONSES_PATH } from '../lib/gateway-responses.js';
import { log } from '../lib/log.js';
import { childEnv } from '../lib/processes.js';
import {
  type GatewayResult,
  type Results,
  type ServerKind,
  type StreamedRows,
  type Target,
  find,
  ratio,
} from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
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
  targets,
  render,
};

const ms2 = (value: number) => String(Math.round(value * 100) / 100);

/** One API of scenario (k): where its runs are and what it measured of streams. */
interface Api {
  /** Its name in the report: `chat` or `responses`. */
  name: string;
  /** The runs' scenarios: 100 connections, and one request at a time. */
  scenario: string;
  seqScenario: string;
  /** Target ids start with it. */
  id: string;
  ttft: GatewayResult['ttft'];
  streamedRows: StreamedRows;
  /** Whether Portkey was measured for it. */
  portkey: boolean;
}

function apis(g: GatewayResult): Api[] {
  const r = g.responses;
  const chat: Api = {
    name: 'chat',
    scenario: 'k',
    seqScenario: 'k-seq',
    id: 'k',
    ttft: g.ttft,
    streamedRows: g.streamedRows,
    portkey: !('skipped' in g.portkey),
  };
  if (!r) return [chat];
  return [
    chat,
    {
      name: 'responses',
      scenario: 'k-responses',
      seqScenario: 'k-responses-seq',
      id: 'k-responses',
      ttft: r.ttft,
      streamedRows: r.streamedRows,
      portkey: r.portkey === 'measured',
    },
  ];
}

/** Scenario (k)'s targets: the same for each API (chat's storage after chat's), then the chain. */
function targets(results: Results): Target[] {
  const g = results.gateway;
  if (!g) return [];
  const [chat, responses] = apis(g);
  const targets = chat ? apiTargets(results, chat) : [];
  const { conversation: c, separate: p } = g.storage;
  const storageRatio = ratio(c.bytesPerTextByte, p.bytesPerTextByte);
  targets.push({
    id: 'k-storage',
    description: `bytes/text byte ≤ ${GATEWAY_LIMITS.maxStorageRatio}× separate turns'`,
    figure: `${c.bytesPerTextByte} / ${p.bytesPerTextByte} = ${storageRatio}×`,
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
      description: 'chain turns answered, joined',
      figure: `${chain.withParent}/${joined} joined`,
      met:
        chain.rows === chain.chains * chain.turns &&
        chain.withParent === joined &&
        chain.conversations === chain.chains,
    });
  }
  return targets;
}

function apiTargets(results: Pick<Results, 'runs'>, api: Api): Target[] {
  const L = GATEWAY_LIMITS;
  const run = (scenario: string, kind: ServerKind) => find(results, scenario, kind);
  const askbase = run(api.scenario, 'askbase');
  const portkey = run(api.scenario, 'portkey');
  const targets: Target[] = [];
  if (askbase) {
    const r = portkey ? ratio(askbase.load.rps, portkey.load.rps) : 0;
    targets.push(
      {
        id: `${api.id}-throughput`,
        description: `≥ ${L.minRpsVsPortkey}× Portkey req/s, 0 errors`,
        figure: portkey ? `${r}×, ${askbase.load.errors} errors` : 'Portkey not measured',
        met: !!portkey && r >= L.minRpsVsPortkey && askbase.load.errors === 0,
      },
      {
        id: `${api.id}-p99`,
        description: "p99 ≤ Portkey's",
        figure: portkey
          ? `${askbase.load.p99Ms} / ${portkey.load.p99Ms} ms`
          : 'Portkey not measured',
        met: !!portkey && askbase.load.p99Ms <= portkey.load.p99Ms,
      },
    );
  }
  const seq = { askbase: run(api.seqScenario, 'askbase'), direct: run(api.seqScenario, 'direct') };
  if (seq.askbase && seq.direct) {
    const added = seq.askbase.load.p50Ms - seq.direct.load.p50Ms;
    targets.push({
      id: `${api.id}-added-latency`,
      description: `≤ direct p50 + ${L.maxAddedP50Ms} ms`,
      figure: `+${ms2(added)} ms`,
      met: added <= L.maxAddedP50Ms,
    });
  }
  const ttftA = api.ttft.askbase;
  const ttftD = api.ttft.direct;
  if (ttftA && ttftD) {
    targets.push({
      id: `${api.id}-ttft`,
      description: `first chunk ≤ direct + ${L.maxTtftOverDirectMs} ms`,
      figure: `+${ms2(ttftA.p50Ms - ttftD.p50Ms)} ms`,
      met: ttftA.p50Ms <= ttftD.p50Ms + L.maxTtftOverDirectMs,
    });
  }
  const s = api.streamedRows;
  targets.push({
    id: `${api.id}-usage`,
    description: 'streams stored, usage and cost',
    figure:
      `${s.rows}/${s.requests} rows` +
      (s.missingUsageOrCost + s.notAnswered > 0
        ? `, ${s.missingUsageOrCost + s.notAnswered} incomplete`
        : ''),
    met: s.rows === s.requests && s.missingUsageOrCost === 0 && s.notAnswered === 0,
  });
  return targets;
}

/** The runs and streams of each API, askbase against the direct call and Portkey. */
function render(results: Results): string[] {
  const g = results.gateway;
  if (!g) return [];
  const kinds: ServerKind[] = ['askbase', 'direct', 'portkey'];
  const rows: string[] = [];
  for (const api of apis(g)) {
    const load = (scenario: string, kind: ServerKind) => find(results, scenario, kind)?.load;
    const row = (what: string, value: (kind: ServerKind) => number | string | undefined) =>
      rows.push(`| ${api.name}: ${what} | ${kinds.map((k) => value(k) ?? '–').join(' | ')} |`);
    row(`req/s, ${CONNECTIONS} conns`, (kind) => {
      const rps = load(api.scenario, kind)?.rps;
      return rps === undefined ? undefined : fmt(rps);
    });
    row('p50 ms, 1 conn', (kind) => load(api.seqScenario, kind)?.p50Ms);
    row('first chunk p50 ms', (kind) => api.ttft[kind]?.p50Ms);
  }
  const r = g.responses?.portkey;
  const portkey =
    'skipped' in g.portkey
      ? `Portkey not measured: ${g.portkey.skipped}.`
      : `Portkey ${g.portkey.version}` +
        (r && r !== 'measured' ? `, not measured for responses: ${r.skipped}.` : '.');
  const chain = g.responses?.chain;
  return [
    `\`${CHAT_PATH}\` (chat) and \`${RESPONSES_PATH}\` (responses), LLM 0 ms. ${portkey}`,
    '',
    '| | askbase | direct | Portkey |',
    '| --- | --: | --: | --: |',
    ...rows,
    ...(chain
      ? [
          '',
          `Chained by \`previous_response_id\`: p50 ${chain.continuing.p50Ms} ms a turn (turns 2–10 ${chain.early.p50Ms}, last 10 ${chain.late.p50Ms}), one-turn ${chain.single.p50Ms} ms.`,
        ]
      : []),
  ];
}
