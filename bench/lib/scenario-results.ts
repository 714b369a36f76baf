/**
 * What the scenarios that measure more than autocannon runs record, in bench/results/latest.json:
 * the shapes `Results` holds, apart from the scenario modules that fill them.
 */

export interface DbWritesResult {
  connections: number;
  seconds: number;
  asks: number;
  asksPerSecond: number;
  /** Table and index size after the run, per row written (bytes). */
  bytesPerRow: number;
}

/** One full export, timed, with the server's memory sampled throughout. */
export interface ExportRun {
  what: string;
  rows: number;
  bytes: number;
  seconds: number;
  rowsPerSecond: number;
  /** Highest VmRSS of the askbase process during the export (MiB); none for COPY. */
  peakRssMb?: number;
}

export interface ExportResult {
  rows: number;
  runs: ExportRun[];
  /** GET /stats over the same rows: milliseconds per request, each measured three times. */
  stats: { path: string; ms: number[] }[];
}

/** One start of askbase, from spawn to ready, on the embedded database. */
export interface StartMeasure {
  /** Spawn to the first 200 from /is_up (listening). */
  listeningMs: number;
  /** Spawn to the first 200 from /health/ready (database open and migrated). */
  readyMs: number;
  /** VmRSS 2 s after ready. */
  idleRssMb: number;
  /** Highest VmRSS seen from spawn to then, sampled every 20 ms. */
  peakRssMb: number;
}

export interface FirstRun {
  /** `node dist/main.js` on an empty DATA_DIR, one fresh directory per start. */
  fresh: StartMeasure[];
  /** `node dist/main.js` on a DATA_DIR made by an earlier start. */
  existing: StartMeasure[];
  /** `npm start` on a built tree and an existing DATA_DIR: npm and its prestart check included. */
  npmStart: StartMeasure[];
  /** fresh and existing again with EMBEDDED_FSYNC=false: what syncing each commit costs. */
  freshUnsynced?: StartMeasure[];
  existingUnsynced?: StartMeasure[];
}

/** One search, repeated: what it looks for, how many rows it found, each request's time. */
export interface SearchQuery {
  what: string;
  q: string;
  found: number;
  ms: number[];
}

export interface SearchResult {
  rows: number;
  /** Rows in Japanese, which only the search terms find. */
  otherScriptRows: number;
  /** The background job indexing the rows seeded without terms, as after an upgrade. */
  backfill: { rows: number; seconds: number };
  queries: SearchQuery[];
}

/** One visit to the web page, in a fresh browser context (nothing cached). */
export interface PageVisit {
  /** Navigation start to the first contentful paint. */
  firstPaintMs: number;
  /** Navigation start to the first page of history on screen. */
  firstPageMs: number;
  /** Scrolling to the end of the list to the next page on screen. */
  nextPageMs: number;
  /** The search request for a word in one row, and for a word in every row (server time seen by the page). */
  searchRareMs: number;
  searchCommonMs: number;
  /** API requests the page made for the first page, the next page, and each search. */
  requests: { firstPage: number; nextPage: number; searchRare: number; searchCommon: number };
  /** Bytes over the wire for the page itself (HTML, script, stylesheet), compressed. */
  pageBytes: number;
}

export interface WebPageResult {
  rows: number;
  visits: PageVisit[];
  /** Why it was not measured, when it was not. */
  skipped?: string;
}

/** The clients scenario (l) compares. */
export type LlmClientName = 'global fetch' | "askbase's fetch";

export interface LlmClientResult {
  /** Calls per round, and how many at a time. */
  calls: number;
  concurrency: number;
  /** Per client and mode: CPU µs per call, one figure per round. */
  cpuUsPerCall: Record<LlmClientName, { plain: number[]; streamed: number[] }>;
}
