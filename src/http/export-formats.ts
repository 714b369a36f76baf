import type { QuestionAnswerJson } from './schemas.js';

/** The export formats of GET /qas/export: how a file starts, how a row is written. */
export interface ExportFormat {
  contentType: string;
  extension: string;
  header: string;
  row(qa: QuestionAnswerJson): string;
}

/** One QuestionAnswer object per line, exactly as GET /qa/{id} returns it. */
const ndjson: ExportFormat = {
  contentType: 'application/x-ndjson; charset=utf-8',
  extension: 'ndjson',
  header: '',
  row: (qa) => `${JSON.stringify(qa)}\n`,
};

const CSV_COLUMNS = [
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
  // Added with the OpenAI-compatible /v1, after the older columns so that their positions hold.
  'kind',
  'conversation_id',
  'parent_id',
  'finish_reason',
  'ttft_ms',
  'cached_prompt_tokens',
  'reasoning_tokens',
] as const;

/**
 * RFC 4180: comma-separated, CRLF between records, a field quoted (quotes doubled) when it
 * holds a comma, a quote or a line break. Nulls are empty fields. A text starting with =, +,
 * -, @, a tab or a carriage return is written with a leading ' so that no spreadsheet runs it;
 * NDJSON keeps every text as stored.
 */
const csv: ExportFormat = {
  contentType: 'text/csv; charset=utf-8; header=present',
  extension: 'csv',
  header: `${CSV_COLUMNS.join(',')}\r\n`,
  row: (qa) => {
    const fields: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
      id: qa.id,
      status: qa.status,
      question: qa.question,
      answer: qa.answer,
      model: qa.model,
      prompt_tokens: qa.usage?.prompt_tokens ?? null,
      completion_tokens: qa.usage?.completion_tokens ?? null,
      total_tokens: qa.usage?.total_tokens ?? null,
      latency_ms: qa.latency_ms,
      cost_usd: qa.cost_usd,
      error_code: qa.error?.code ?? null,
      error_message: qa.error?.message ?? null,
      key_name: qa.key_name,
      cached_from: qa.cached_from,
      text_stored: String(qa.text_stored),
      created_at: qa.created_at,
      answered_at: qa.answered_at,
      kind: qa.kind,
      conversation_id: qa.conversation_id,
      parent_id: qa.parent_id,
      finish_reason: qa.finish_reason,
      ttft_ms: qa.ttft_ms,
      cached_prompt_tokens: qa.usage?.cached_prompt_tokens ?? null,
      reasoning_tokens: qa.usage?.reasoning_tokens ?? null,
    };
    return `${CSV_COLUMNS.map((column) => csvField(fields[column])).join(',')}\r\n`;
  },
};

function csvField(value: string | number | null): string {
  if (value === null) return '';
  // A text that a spreadsheet would run as a formula gets a leading ' (OWASP's advice against
  // CSV injection): a stored question is anyone's text. Numbers are written as they are.
  const text = typeof value === 'string' && FORMULA_START.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** What a spreadsheet reads as the start of a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

export const EXPORT_FORMATS = { ndjson, csv } as const;
export type ExportFormatName = keyof typeof EXPORT_FORMATS;
