/** Scenario (k)'s targets and its section of BENCHMARKS.md (the measuring is in gateway.ts). */
import { CHAT_PATH, CONNECTIONS, GATEWAY_LIMITS, MODEL } from './gateway.js';
import {
  type Results,
  type RunRecord,
  type ServerKind,
  type Target,
  find,
  ratio,
} from './results.js';

const num = (value: number) =>
  value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 10) / 10);
const ms2 = (value: number) => String(Math.round(value * 100) / 100);

/** Scenario (k)'s targets. */
export function gatewayTargets(results: Pick<Results, 'runs' | 'gateway'>): Target[] {
  const g = results.gateway;
  if (!g) return [];
  const L = GATEWAY_LIMITS;
  const run = (scenario: string, kind: ServerKind) => find(results, scenario, kind);
  const askbase = run('k', 'askbase');
  const direct = run('k', 'direct');
  const portkey = run('k', 'portkey');
  const noPortkey = 'skipped' in g.portkey ? `Portkey not measured: ${g.portkey.skipped}` : '';
  const targets: Target[] = [];
  if (askbase) {
    const r = portkey ? ratio(askbase.load.rps, portkey.load.rps) : 0;
    targets.push(
      {
        id: 'k-throughput',
        description: `(k) POST ${CHAT_PATH}, LLM 0 ms, ${CONNECTIONS} connections: askbase ≥ ${L.minRpsVsPortkey}× Portkey's req/s, no errors`,
        figure: portkey
          ? `${num(askbase.load.rps)} / ${num(portkey.load.rps)} req/s = ${r}× (direct ${num(direct?.load.rps ?? 0)} req/s); errors: askbase ${askbase.load.errors}, Portkey ${portkey.load.errors}`
          : noPortkey,
        met: !!portkey && r >= L.minRpsVsPortkey && askbase.load.errors === 0,
      },
      {
        id: 'k-p99',
        description: `(k) the same: askbase's p99 ≤ Portkey's`,
        figure: portkey
          ? `${askbase.load.p99Ms} vs ${portkey.load.p99Ms} ms (direct ${direct?.load.p99Ms ?? '–'} ms)`
          : noPortkey,
        met: !!portkey && askbase.load.p99Ms <= portkey.load.p99Ms,
      },
    );
  }
  const seq = { askbase: run('k-seq', 'askbase'), direct: run('k-seq', 'direct') };
  const seqPortkey = run('k-seq', 'portkey');
  if (seq.askbase && seq.direct) {
    const added = seq.askbase.load.p50Ms - seq.direct.load.p50Ms;
    targets.push({
      id: 'k-added-latency',
      description: `(k) one request at a time: askbase adds ≤ ${L.maxAddedP50Ms} ms to the direct call's p50`,
      figure:
        `${ms2(added)} ms (p50 ${seq.askbase.load.p50Ms} vs ${seq.direct.load.p50Ms} ms)` +
        (seqPortkey
          ? `; Portkey adds ${ms2(seqPortkey.load.p50Ms - seq.direct.load.p50Ms)} ms`
          : ''),
      met: added <= L.maxAddedP50Ms,
    });
  }
  const ttftA = g.ttft.askbase;
  const ttftD = g.ttft.direct;
  if (ttftA && ttftD) {
    targets.push({
      id: 'k-ttft',
      description: `(k) streamed: askbase's time to the first chunk (p50) ≤ the direct call's + ${L.maxTtftOverDirectMs} ms`,
      figure:
        `${ttftA.p50Ms} vs ${ttftD.p50Ms} ms (+${ms2(ttftA.p50Ms - ttftD.p50Ms)} ms)` +
        (g.ttft.portkey ? `; Portkey ${g.ttft.portkey.p50Ms} ms` : ''),
      met: ttftA.p50Ms <= ttftD.p50Ms + L.maxTtftOverDirectMs,
    });
  }
  const s = g.streamedRows;
  targets.push({
    id: 'k-usage',
    description: '(k) every streamed exchange stored, answered, with usage and cost',
    figure: `${s.rows} rows for ${s.requests} requests; ${s.missingUsageOrCost} without usage or cost, ${s.notAnswered} not answered`,
    met: s.rows === s.requests && s.missingUsageOrCost === 0 && s.notAnswered === 0,
  });
  const { conversation: c, separate: p } = g.storage;
  const storageRatio = ratio(c.bytesPerTextByte, p.bytesPerTextByte);
  targets.push({
    id: 'k-storage',
    description: `(k) a ${g.storage.turns}-turn conversation: row bytes per text byte ≤ ${L.maxStorageRatio}× the same text as ${g.storage.turns} separate exchanges`,
    figure: `${c.bytesPerTextByte} vs ${p.bytesPerTextByte} = ${storageRatio}× (${num(c.rowBytes)} vs ${num(p.rowBytes)} bytes for ${num(c.textBytes)} bytes of text; ${c.withParent}/${g.storage.turns - 1} turns joined)`,
    met: c.rows === g.storage.turns && storageRatio > 0 && storageRatio <= L.maxStorageRatio,
  });
  return targets;
}

/** Scenario (k)'s section of the generated block of BENCHMARKS.md. */
export function renderGateway(results: Pick<Results, 'runs' | 'gateway'>): string[] {
  const g = results.gateway;
  if (!g) return [];
  const kinds: ServerKind[] = ['askbase', 'direct', 'portkey'];
  const cell = (scenario: string, pick: (run: RunRecord) => string) =>
    kinds.map((kind) => {
      const run = find(results, scenario, kind);
      return run ? pick(run) : '–';
    });
  const directSeq = find(results, 'k-seq', 'direct')?.load.p50Ms;
  const rows: [string, string[]][] = [
    [`req/s, ${CONNECTIONS} connections`, cell('k', (r) => num(r.load.rps))],
    [`p99 ms, ${CONNECTIONS} connections`, cell('k', (r) => String(r.load.p99Ms))],
    ['p50 ms, one request at a time', cell('k-seq', (r) => String(r.load.p50Ms))],
    [
      'added to the direct p50, ms',
      cell('k-seq', (r) => (directSeq === undefined ? '–' : ms2(r.load.p50Ms - directSeq))),
    ],
    [
      'streamed: first chunk p50 ms (p99)',
      kinds.map((kind) => {
        const p = g.ttft[kind];
        return p ? `${p.p50Ms} (${p.p99Ms})` : '–';
      }),
    ],
  ];
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
    '| measure | askbase | direct (fake LLM) | Portkey |',
    '| --- | --: | --: | --: |',
    ...rows.map(([name, values]) => `| ${name} | ${values.join(' | ')} |`),
    '',
    `The streamed requests left ${g.streamedRows.rows} rows in askbase (${g.streamedRows.requests} requests); ${g.streamedRows.missingUsageOrCost} lack usage or cost.`,
    '',
    `Storage: ${g.storage.turns} user messages and their answers, sent as one conversation (each turn carries the whole history) and as ${g.storage.turns} one-turn exchanges; bytes are \`sum(pg_column_size(row))\` over the rows each created (TOAST included, indexes not).`,
    '',
    '| stored as | rows | turns joined | row bytes | text bytes | row bytes per text byte |',
    '| --- | --: | --: | --: | --: | --: |',
    `| one conversation | ${c.rows} | ${c.withParent} | ${num(c.rowBytes)} | ${num(c.textBytes)} | ${c.bytesPerTextByte} |`,
    `| separate exchanges | ${p.rows} | ${p.withParent} | ${num(p.rowBytes)} | ${num(p.textBytes)} | ${p.bytesPerTextByte} |`,
  ];
}
