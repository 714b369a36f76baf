/** Scenario (h): exporting a million rows, NDJSON and CSV, against PostgreSQL's own COPY. */
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { LARGE_TABLE_ROWS, ensureRows } from '../lib/databases.js';
import { fmt } from '../lib/format.js';
import { log } from '../lib/log.js';
import { type Results, type Target, ratio } from '../lib/results.js';
import { startSampler } from '../lib/sampler.js';
import type { Scenario } from '../lib/scenario.js';
import { LIST_DATABASE } from './list-pages.js';
import type { ExportRun, ExportResult } from '../lib/scenario-results.js';

export const exportRows: Scenario = {
  id: 'h',
  title: 'Exporting every row',
  databases: [LIST_DATABASE],
  async run({ pg, withServers }) {
    const rows = await ensureRows(pg, LIST_DATABASE, LARGE_TABLE_ROWS);
    log(`exporting ${rows.toLocaleString('en-US')} rows: GET /qas/export and COPY`);
    const exported = await withServers(
      ['askbase'],
      0,
      ([server]) =>
        measureExport({
          baseUrl: server?.baseUrl ?? '',
          pid: server?.child.pid ?? 0,
          databaseUrl: pg.url(LIST_DATABASE),
          rows,
          rounds: 2,
        }),
      { name: LIST_DATABASE },
    );
    return { exported };
  },
  targets,
  render,
};

/**
 * Issue 13's export targets: flat memory, and a stated share of what PostgreSQL's own COPY
 * does with the same rows (askbase builds JSON or CSV in JavaScript, row by row; COPY writes
 * from the server's C code).
 */
export const EXPORT_MIN_RATIO_TO_COPY = 0.1;
function targets({ exported }: Results): Target[] {
  if (!exported) return [];
  const http = exported.runs.filter((r) => r.peakRssMb !== undefined);
  const copy = exported.runs.filter((r) => r.peakRssMb === undefined);
  const peak = Math.max(...http.map((r) => r.peakRssMb ?? 0));
  const best = (runs: typeof http) => Math.max(...runs.map((r) => r.rowsPerSecond));
  const csvRatio = ratio(best(http.filter((r) => r.what.endsWith('csv'))), best(copy));
  const complete = http.every((r) => r.rows === exported.rows);
  return [
    {
      id: 'h-memory',
      description: 'every row, RSS < 150 MiB',
      figure: `${peak} MiB${complete ? '' : ', ROWS MISSING'}`,
      met: peak < 150 && complete,
    },
    {
      id: 'h-stats',
      description: 'GET /stats < 2 s each',
      figure: `worst ${Math.max(...(exported.stats ?? []).flatMap((s) => s.ms))} ms`,
      met: (exported.stats ?? []).every((s) => Math.max(...s.ms) < 2000),
    },
    {
      id: 'h-throughput',
      description: `CSV ≥ ${EXPORT_MIN_RATIO_TO_COPY}× COPY's rows/s`,
      figure: `${csvRatio}×`,
      met: csvRatio >= EXPORT_MIN_RATIO_TO_COPY,
    },
  ];
}

/** Each way's best rate and highest memory over the rounds, and GET /stats's worst time. */
function render({ exported }: Results): string[] {
  if (!exported) return [];
  const ways = [...new Set(exported.runs.map((run) => run.what))].map((what) => {
    const runs = exported.runs.filter((run) => run.what === what);
    const rss = runs.flatMap((run) => (run.peakRssMb === undefined ? [] : [run.peakRssMb]));
    const name = what.startsWith('COPY') ? 'COPY … TO STDOUT, CSV' : what.replace(/.*format=/, '');
    return `| ${name} | ${fmt(Math.max(...runs.map((r) => r.rowsPerSecond)))} | ${fmt(Math.max(...runs.map((r) => r.bytes)) / 1e6)} | ${rss.length > 0 ? fmt(Math.max(...rss)) : '–'} |`;
  });
  const stats = (exported.stats ?? []).map(
    (s) => `\`${s.path.replace('/stats?', '')}\` ${Math.max(...s.ms)}`,
  );
  return [
    `| export, ${exported.rows.toLocaleString('en-US')} rows | rows/s (best) | MB | RSS MiB |`,
    '| --- | --: | --: | --: |',
    ...ways,
    ...(stats.length > 0 ? ['', `GET /stats over them, worst of 3: ${stats.join(', ')} ms.`] : []),
  ];
}

/** Reads a body to the end, counting bytes and newlines (rows), keeping none of it. */
async function drain(body: ReadableStream<Uint8Array>): Promise<{ bytes: number; lines: number }> {
  let bytes = 0;
  let lines = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    for (const byte of chunk) if (byte === 10) lines += 1;
  }
  return { bytes, lines };
}

/**
 * Scenario (h): GET /qas/export of every row, NDJSON then CSV, against PostgreSQL's own
 * `COPY (…) TO STDOUT WITH CSV` of the same rows and columns (what `psql \copy` runs), read by
 * a client that keeps nothing. Alternating, `rounds` times each.
 */
export async function measureExport(options: {
  baseUrl: string;
  pid: number;
  databaseUrl: string;
  rows: number;
  rounds: number;
}): Promise<ExportResult> {
  const runs: ExportRun[] = [];
  const viaHttp = async (format: 'ndjson' | 'csv') => {
    const sampler = await startSampler({ pid: options.pid, intervalMs: 50 });
    const started = performance.now();
    const response = await fetch(`${options.baseUrl}/qas/export?format=${format}`);
    if (!response.ok || !response.body) throw new Error(`export answered ${response.status}`);
    const { bytes, lines } = await drain(response.body);
    const seconds = (performance.now() - started) / 1000;
    const samples = await sampler.stop();
    const rows = format === 'csv' ? lines - 1 : lines;
    runs.push({
      what: `GET /qas/export?format=${format}`,
      rows,
      bytes,
      seconds: round(seconds),
      rowsPerSecond: Math.round(rows / seconds),
      peakRssMb: samples.peakRssMb,
    });
  };
  const viaCopy = async () => {
    const client = new pg.Client({ connectionString: options.databaseUrl });
    await client.connect();
    try {
      let bytes = 0;
      let lines = 0;
      const started = performance.now();
      await pipeline(
        client.query(
          copyTo(`copy (select id, status, question, answer, model, prompt_tokens,
                   completion_tokens, total_tokens, latency_ms, error_code, error_message,
                   created_at, answered_at from question_answers order by id desc)
                  to stdout with (format csv, header)`),
        ),
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            bytes += chunk.length;
            for (const byte of chunk) if (byte === 10) lines += 1;
            done();
          },
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      runs.push({
        what: 'COPY … TO STDOUT (CSV), as psql \\copy',
        rows: lines - 1,
        bytes,
        seconds: round(seconds),
        rowsPerSecond: Math.round((lines - 1) / seconds),
      });
    } finally {
      await client.end();
    }
  };
  for (let round = 0; round < options.rounds; round += 1) {
    await viaCopy();
    await viaHttp('ndjson');
    await viaHttp('csv');
  }
  const stats: ExportResult['stats'] = [];
  for (const path of ['/stats', '/stats?group_by=day', '/stats?group_by=model']) {
    const ms: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      const response = await fetch(`${options.baseUrl}${path}`);
      if (!response.ok) throw new Error(`${path} answered ${response.status}`);
      await response.json();
      ms.push(Math.round(performance.now() - started));
    }
    stats.push({ path, ms });
  }
  return { rows: options.rows, runs, stats };
}

const round = (value: number) => Math.round(value * 100) / 100;
