import type { LoadResult } from './load.js';
import type {
  DbWritesResult,
  ExportResult,
  FirstRun,
  LlmClientResult,
  SearchResult,
  WebPageResult,
} from './scenario-results.js';
import type { Samples } from './sampler.js';

/** Scenario (k) adds the fake LLM called directly and Portkey's gateway in front of it. */
export type ServerKind = 'askbase' | 'baseline' | 'direct' | 'portkey';

/** One measured autocannon run against one server. */
export interface RunRecord {
  /** Scenario id: a, b, c, d, e, e-unsynced, k, k-seq, k-responses, k-responses-seq or chart. */
  scenario: string;
  /** What was measured, for the table. */
  label: string;
  server: ServerKind;
  database: 'postgres' | 'pglite';
  request: string;
  connections: number;
  /** The fake LLM's latency behind this server; null when the request does not reach it. */
  llmLatencyMs: number | null;
  /** Rows in the table, where that matters (GET /qas). */
  rows?: number;
  load: LoadResult;
  samples: Samples;
  /**
   * The server's CPU time per request, warm-ups included: noisy neighbours barely move it. For
   * asks on PostgreSQL, per ask started (a row), with the asks in flight at each round's end
   * finished inside the round; otherwise per response.
   */
  cpuMsPerRequest: number;
  /** Asks started in this item's rounds (rows created), where they were counted. */
  asksStarted?: number;
  /** How busy the whole machine's CPUs were during this item's rounds (every process, anyone's). */
  machineBusyPct: number;
  /**
   * The machine's CPU time per response during this item's rounds, by who spent it, in ms:
   * what serving one more request per second costs the whole machine. `machine` is every
   * process's (anyone's) and the kernel's; `other` is what the named parts do not account for.
   */
  cpuByPart?: CpuByPart;
}

export interface CpuByPart {
  server: number;
  /** This process: autocannon and the samplers. */
  loadGenerator: number;
  fakeLlm: number;
  postgres: number;
  other: number;
  machine: number;
  /** CPUs of the machine (nproc). */
  cpus: number;
}

export interface Target {
  id: string;
  description: string;
  /** The measured figure, in words. */
  figure: string;
  met: boolean;
}

export interface ChartPoint {
  latencyMs: number;
  askbase: number;
  baseline: number;
  /** connections / latency; null at 0 ms. */
  ideal: number | null;
}

export interface Results {
  startedAt: string;
  totalSeconds: number;
  commit: string;
  machine: {
    nproc: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    os: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  config: {
    durationS: number;
    rounds: number;
    warmupS: number;
    poolMax: number;
    chartConnections: number;
    listConnections: number;
    listLimit: number;
    cpuProfile: boolean;
    nodeArgs: string;
    /** askbase's LOG_LEVEL; absent in results from before it was recorded (warn). */
    logLevel?: string;
  };
  runs: RunRecord[];
  chart: ChartPoint[];
  /** Scenario (f): starting askbase on the embedded database. */
  firstRun?: FirstRun;
  /** Scenario (g): the web page over a large table, in Chromium. */
  webPage?: WebPageResult;
  /** Scenario (h): exporting the whole table. */
  exported?: ExportResult;
  /** Scenario (i): search in two scripts over a large table. */
  searched?: SearchResult;
  /** Scenario (j): askbase's writes alone against PostgreSQL. */
  dbWrites?: DbWritesResult[];
  /** Scenario (k): askbase as an OpenAI-compatible gateway, against the direct call and Portkey. */
  gateway?: GatewayResult;
  /** Scenario (l): CPU per SDK call, askbase's fetch against the global fetch. */
  llmClient?: LlmClientResult;
  targets: Target[];
}

export function find(
  results: Pick<Results, 'runs'>,
  scenario: string,
  server: ServerKind,
  label?: string,
): RunRecord | undefined {
  return results.runs.find(
    (run) =>
      run.scenario === scenario &&
      run.server === server &&
      (label === undefined || run.label === label),
  );
}

export const ratio = (numerator: number, denominator: number) =>
  denominator > 0 ? Math.round((numerator / denominator) * 100) / 100 : 0;

/** The middle value (the lower of the two middle ones for an even count). */
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
};

/** Scenario (k): askbase as an OpenAI-compatible gateway (bench/lib/gateway-chat.ts). */
export interface Percentiles {
  n: number;
  p50Ms: number;
  p99Ms: number;
}

export interface StorageFigure {
  rows: number;
  /** sum(pg_column_size(row)) over the rows: what the table holds of them, TOAST included. */
  rowBytes: number;
  /** UTF-8 bytes of the user messages and answers the rows stand for. */
  textBytes: number;
  bytesPerTextByte: number;
  /** Distinct conversation_id among the rows, and rows with a parent_id. */
  conversations: number;
  withParent: number;
}

/** The rows askbase created for streamed requests (warm-up included), of their kind. */
export interface StreamedRows {
  requests: number;
  rows: number;
  missingUsageOrCost: number;
  notAnswered: number;
}

export interface GatewayResult {
  portkey: { version: string; command: string } | { skipped: string };
  /** Time to the first `data: {…}` chunk of a streamed answer, in ms. */
  ttft: Partial<Record<ServerKind, Percentiles>>;
  /** The rows (kind 'chat') askbase created for the streamed requests. */
  streamedRows: StreamedRows;
  storage: { turns: number; conversation: StorageFigure; separate: StorageFigure };
  /** `POST /v1/responses`; absent from results taken before it was measured. */
  responses?: ResponsesGatewayResult;
}

/** Scenario (k) for `POST /v1/responses` (bench/lib/gateway-responses.ts). */
export interface ResponsesGatewayResult {
  /** Whether Portkey was measured for /v1/responses too, or why not. */
  portkey: 'measured' | { skipped: string };
  /** Time to the first `response.output_text.delta` event of a streamed response, in ms. */
  ttft: Partial<Record<ServerKind, Percentiles>>;
  /** The rows (kind 'response') askbase created for the streamed requests. */
  streamedRows: StreamedRows;
  /** Chains of responses, each turn sent by `previous_response_id` as soon as the last ended. */
  chain: ResponsesChain;
}

export interface ResponsesChain {
  chains: number;
  turns: number;
  /** Turns 2 to the last of each chain: the turns that continue a previous response. */
  continuing: Percentiles;
  /** Turns 2 to 10 of each chain, and its last 10: what a longer history adds. */
  early: Percentiles;
  late: Percentiles;
  /** The same questions as one-turn responses, by the same client, after each chain. */
  single: Percentiles;
  /** The chains' rows: their conversations and the rows joined to a parent. */
  rows: number;
  conversations: number;
  withParent: number;
}
