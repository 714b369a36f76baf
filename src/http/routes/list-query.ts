import type { ExchangeKind, ListFilter, QuestionStatus } from '../../domain/question-answer.js';
import { InvalidRequestError } from '../../errors.js';
import { type Instant, toInstant } from '../date-time-format.js';
import { decodeCursor, encodeCursor } from '../serialize.js';

/** GET /qas's query, once the schema has checked it. */
export interface ListQuery {
  limit: number;
  cursor?: string;
  q?: string;
  status?: QuestionStatus;
  key?: string;
  kind?: ExchangeKind;
  conversation?: number;
  since?: string;
  until?: string;
}

/** The query parameters that narrow a listing, carried from page to page. */
const FILTER_PARAMS = ['q', 'status', 'key', 'kind', 'conversation', 'since', 'until'] as const;

/** Where the page starts: after the id the cursor names, or at the newest row. */
export function afterIdOf(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const afterId = decodeCursor(cursor);
  if (afterId === undefined) {
    throw new InvalidRequestError(
      'cursor is not valid; use the Link header of a previous page',
      'cursor',
    );
  }
  return afterId;
}

/** The schema has checked types and formats; what is left is what it cannot express. */
export function listFilter(query: Pick<ListQuery, (typeof FILTER_PARAMS)[number]>): ListFilter {
  // PostgreSQL text cannot hold NUL; it would fail the query instead of matching nothing.
  if (query.q?.includes('\u0000')) {
    throw new InvalidRequestError('q must not contain NUL characters', 'q');
  }
  const since = query.since === undefined ? undefined : instant(query.since, 'since');
  const until = query.until === undefined ? undefined : instant(query.until, 'until');
  if (since && until && since.microseconds >= until.microseconds) {
    throw new InvalidRequestError('until must be later than since', 'until');
  }
  return {
    search: query.q,
    status: query.status,
    keyName: query.key,
    kind: query.kind,
    conversationId: query.conversation,
    since: since?.iso,
    until: until?.iso,
  };
}

/** The `Link` header to the page after `afterId`, with the same limit and filters. */
export function nextPageLink(query: ListQuery, afterId: number): string {
  const next = new URLSearchParams({ limit: String(query.limit) });
  for (const param of FILTER_PARAMS) {
    const value = query[param];
    if (value !== undefined) next.set(param, String(value));
  }
  next.set('cursor', encodeCursor(afterId));
  return `</qas?${next.toString()}>; rel="next"`;
}

/** A date-time compared exactly as given, or a 400 naming it when that cannot be done. */
function instant(value: string, param: 'since' | 'until'): Instant {
  const read = toInstant(value);
  if (read === 'too precise') {
    throw new InvalidRequestError(`${param} must have at most microsecond precision`, param);
  }
  if (read === 'out of range') {
    throw new InvalidRequestError(`${param} must be between years 1 and 9999 in UTC`, param);
  }
  return read;
}
