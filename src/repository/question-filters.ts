import { and, eq, or, sql } from 'drizzle-orm';
import { questionAnswers } from '../db/schema.js';
import type { ListFilter } from '../domain/question-answer.js';
import { parseSearch } from './search-terms.js';

const t = questionAnswers;

/** The rows a filter matches (listings, exports and stats alike); undefined: every row. */
export function matching({
  search,
  status,
  since,
  until,
  keyName,
  kind,
  conversationId,
}: ListFilter) {
  return and(
    status === undefined ? undefined : eq(t.status, status),
    keyName === undefined ? undefined : eq(t.keyName, keyName),
    kind === undefined ? undefined : eq(t.kind, kind),
    conversationId === undefined ? undefined : inConversation(conversationId),
    // Compared as PostgreSQL timestamps, to the microsecond, not as JavaScript Dates.
    since === undefined ? undefined : sql`${t.createdAt} >= ${since}::timestamptz`,
    until === undefined ? undefined : sql`${t.createdAt} < ${until}::timestamptz`,
    search === undefined ? undefined : found(search),
  );
}

/** The turns of conversation `id`: its first turn (which names it) and those that joined it. */
export function inConversation(id: number) {
  return or(eq(t.conversationId, id), eq(t.id, id));
}

/**
 * The rows a search finds: English words (stemmed, with web search syntax) by the full-text
 * index, words in other scripts by their terms (see search-terms.ts); every part must hold.
 */
function found(search: string) {
  const { english, clauses } = parseSearch(search);
  const text = sql`normalize(coalesce(${t.question}, '') || ' ' || coalesce(${t.answer}, ''), NFKC)`;
  const parts = clauses.map(({ terms, runs, negated }) => {
    const clause = and(
      // Implied by the next condition; said so that the partial index serves it.
      sql`${t.searchTerms} <> '{}'`,
      sql`${t.searchTerms} @> array[${sql.join(
        terms.map((term) => sql`${term}`),
        sql`, `,
      )}]::text[]`,
      // The pairs of a longer run may each be elsewhere in the text: the run must be there too.
      ...runs.map((run) => sql`strpos(${text}, ${run}) > 0`),
    );
    return negated ? sql`not coalesce(${clause}, false)` : clause;
  });
  if (english !== '' || parts.length === 0) {
    const query = sql`websearch_to_tsquery('english', ${english})`;
    // Alone, a query of only stop words ("the") finds nothing, as before; beside words in other
    // scripts it is no condition at all.
    parts.unshift(
      parts.length === 0
        ? sql`${t.searchVector} @@ ${query}`
        : sql`(numnode(${query}) = 0 or ${t.searchVector} @@ ${query})`,
    );
  }
  return and(...parts);
}
