import type { QuestionAnswer } from './api.js';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatTime = (iso: string | null) => (iso ? dateTime.format(new Date(iso)) : '—');

export function formatLatency(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatTokens(usage: QuestionAnswer['usage']): string {
  if (!usage) return '—';
  return `${usage.total_tokens} (${usage.prompt_tokens} in, ${usage.completion_tokens} out)`;
}

export function formatCost(usd: number | null): string {
  if (usd === null) return 'cost unknown';
  return usd < 0.01 ? `$${usd.toFixed(6)}` : `$${usd.toFixed(4)}`;
}

/** The first line or so of an answer, as plain text, for the history list. */
export function preview(text: string, max = 180): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `YYYY-MM-DD` from a date input, read as local midnight, as the API's RFC 3339 instant. */
export function dayStart(day: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T00:00:00`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The instant a day ends (the next local midnight): `until` is exclusive. */
export function dayEnd(day: string): string | undefined {
  const start = dayStart(day);
  if (!start) return undefined;
  const date = new Date(start);
  date.setDate(date.getDate() + 1);
  return date.toISOString();
}
