import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { type QaJson, expectError, expectOk } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { BOTH_DATABASES, unique } from '../helpers/each-database.js';

/** RFC 4180, read strictly: what a spreadsheet or a CSV library would see. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (quoted && c === '"') {
      quoted = false;
    } else if (quoted) {
      field += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 1;
    } else {
      field += c;
    }
  }
  expect(field, 'the file ends with CRLF').toBe('');
  return records;
}

const CSV_HEADER = [
  'id',
  'status',
  'question',
  'answer',
  'model',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'latency_ms',
  'cost_usd',
  'error_code',
  'error_message',
  'key_name',
  'cached_from',
  'text_stored',
  'created_at',
  'answered_at',
  'kind',
  'conversation_id',
  'parent_id',
  'finish_reason',
  'ttft_ms',
  'cached_prompt_tokens',
  'reasoning_tokens',
];

describe.each(BOTH_DATABASES)(
  'GET /qas/export on $driver',
  { timeout: 120_000 },
  ({ database }) => {
    const suite = useAskbaseSuite({ database, captureLogs: true });

    const exportOf = (query: Record<string, string>) =>
      fetch(`${suite.askbase.url}/qas/export?${new URLSearchParams(query).toString()}`);

    /**
     * `count` answered rows whose question holds `word`, inserted in one statement; with
     * `modelBytes`, each row's model name is that long, so that few rows make a large file
     * (the model is not indexed for search, which the embedded database computes slowly).
     */
    async function insertRows(word: string, count: number, modelBytes = 0) {
      await suite.askbase.database.db.execute(
        sql`insert into question_answers (question, answer, status, model, answered_at)
          select ${word} || ' row ' || g, 'Filler answer ' || g, 'answered',
                 'test-model' || repeat('-', ${modelBytes}::int), now()
            from generate_series(1, ${count}::int) as g`,
      );
    }

    it('when NDJSON is asked for, then each line is the stored question exactly as GET /qa/{id} returns it, newest first, as a download', async () => {
      const word = unique('ndjson');
      suite.fake.setBehavior((request) =>
        request.messages.at(-1)?.content.includes('fails') ? { fault: 'bad_request' } : {},
      );
      const ids: number[] = [];
      for (const question of [
        `${word} first`,
        `${word} fails`,
        `${word} "quoted", multi\nline ünïcode 日本語`,
      ]) {
        const response = await ask(suite.askbase.url, { question });
        ids.push(((await response.json()) as { id?: number; error?: { id: number } }).id ?? -1);
      }
      const failed = await (await fetch(`${suite.askbase.url}/qas?q=${word}&status=failed`)).json();
      ids[1] = (failed as QaJson[])[0]!.id;

      const response = await exportOf({ q: word });

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
      expect(response.headers.get('content-disposition')).toMatch(
        /^attachment; filename="askbase-[\dTZ-]+\.ndjson"$/,
      );
      const lines = (await response.text()).split('\n');
      expect(lines.at(-1)).toBe('');
      const exported = lines.slice(0, -1).map((line) => JSON.parse(line) as QaJson);
      expect(exported.map((qa) => qa.id)).toEqual([...ids].reverse());
      for (const qa of exported) {
        expect(qa).toEqual(await expectOk<QaJson>(await fetch(`${suite.askbase.url}/qa/${qa.id}`)));
      }
    });

    it('when a stored text starts like a formula, then the CSV cell is neutralised with a quote and NDJSON keeps it raw', async () => {
      const word = unique('formula');
      const question = `=HYPERLINK("http://evil.example","${word}")`;
      suite.fake.setBehavior({ answer: () => '@SUM(A1:A9) -1 +2' });
      await expectOk<QaJson>(await ask(suite.askbase.url, { question }));

      const csv = parseCsv(await (await exportOf({ q: word, format: 'csv' })).text());
      const ndjson = await (await exportOf({ q: word })).text();

      const row = Object.fromEntries(CSV_HEADER.map((name, i) => [name, csv[1]?.[i]]));
      expect(row.question).toBe(`'${question}`);
      expect(row.answer).toBe(`'@SUM(A1:A9) -1 +2`);
      expect(JSON.parse(ndjson.trim()) as QaJson).toMatchObject({
        question,
        answer: '@SUM(A1:A9) -1 +2',
      });
    });

    it('when CSV is asked for, then a header row and one RFC 4180 record per question, usage and error flattened, nulls empty', async () => {
      const word = unique('csv');
      suite.fake.setBehavior((request) =>
        request.messages.at(-1)?.content.includes('fails') ? { fault: 'bad_request' } : {},
      );
      const tricky = `${word} has "quotes", commas\r\nand lines`;
      const answered = await expectOk<QaJson>(await ask(suite.askbase.url, { question: tricky }));
      await ask(suite.askbase.url, { question: `${word} fails` });

      const response = await exportOf({ q: word, format: 'csv' });

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
      expect(response.headers.get('content-disposition')).toMatch(/\.csv"$/);
      const [header, failedRow, answeredRow, ...rest] = parseCsv(await response.text());
      expect(header).toEqual(CSV_HEADER);
      expect(rest).toEqual([]);
      const record = (row: string[] | undefined) =>
        Object.fromEntries(CSV_HEADER.map((name, i) => [name, row?.[i]]));
      expect(record(answeredRow)).toEqual({
        id: String(answered.id),
        status: 'answered',
        question: tricky,
        answer: answered.answer,
        model: answered.model,
        prompt_tokens: String(answered.usage?.prompt_tokens),
        completion_tokens: String(answered.usage?.completion_tokens),
        total_tokens: String(answered.usage?.total_tokens),
        latency_ms: String(answered.latency_ms),
        cost_usd: String(answered.cost_usd),
        error_code: '',
        error_message: '',
        key_name: '',
        cached_from: '',
        text_stored: 'true',
        created_at: answered.created_at,
        answered_at: answered.answered_at,
        kind: 'ask',
        conversation_id: '',
        parent_id: '',
        finish_reason: 'stop',
        ttft_ms: '',
        cached_prompt_tokens: '',
        reasoning_tokens: '',
      });
      expect(record(failedRow)).toMatchObject({
        status: 'failed',
        answer: '',
        prompt_tokens: '',
        error_code: 'llm_bad_response',
        answered_at: '',
      });
      expect(record(failedRow).error_message).not.toBe('');
    });

    it('when the filters narrow the export, then only what GET /qas would list is exported', async () => {
      const word = unique('filtered');
      suite.fake.setBehavior((request) =>
        request.messages.at(-1)?.content.includes('fails') ? { fault: 'server_error' } : {},
      );
      await ask(suite.askbase.url, { question: `${word} fine` });
      await ask(suite.askbase.url, { question: `${word} fails` });

      const failedOnly = (await (await exportOf({ q: word, status: 'failed' })).text()).trim();
      const future = await (await exportOf({ q: word, since: '2999-01-01T00:00:00Z' })).text();

      expect(failedOnly.split('\n').map((line) => (JSON.parse(line) as QaJson).question)).toEqual([
        `${word} fails`,
      ]);
      expect(future).toBe('');
    });

    it('when more rows match than one database read holds, then every one is exported once, newest first', async () => {
      const word = unique('many');
      await insertRows(word, 2_500);

      const lines = (await (await exportOf({ q: word })).text()).trim().split('\n');

      const ids = lines.map((line) => (JSON.parse(line) as QaJson).id);
      expect(ids).toHaveLength(2_500);
      expect(new Set(ids).size).toBe(2_500);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
    });

    it('when the format or a filter is not valid, then 400 invalid_request naming it, before any file starts', async () => {
      const { error } = await expectError(
        await exportOf({ format: 'xml' }),
        400,
        'invalid_request',
      );
      expect(error.message).toMatch(/format/);
      await expectError(
        await exportOf({ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }),
        400,
        'invalid_request',
      );
    });

    it('when the client disconnects during an export, then askbase stops reading and says so', async () => {
      const word = unique('abandoned');
      // 16 MB of NDJSON: more than the stream's and the sockets' buffers hold, so the export
      // is still reading when the client goes.
      await insertRows(word, 2_000, 8_000);
      const controller = new AbortController();
      const response = await fetch(`${suite.askbase.url}/qas/export?q=${word}`, {
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();

      controller.abort();

      const ended = await waitFor(() =>
        suite.askbase.logs.find((line) => line.msg === 'export ended early: the client went away'),
      );
      expect(ended.rows).toBeGreaterThan(0);
      expect(ended.rows).toBeLessThan(2_000);
    });
  },
);
