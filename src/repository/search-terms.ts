/**
 * Search in scripts the English full-text index cannot split into words.
 *
 * PostgreSQL's text search parser treats a Japanese, Chinese or Thai sentence as one long word,
 * and what it lowercases depends on the cluster's locale: the embedded database and a C-locale
 * server disagreed, and neither found a word inside such a sentence. So words with letters
 * outside ASCII are indexed by askbase itself, the same way on every database: lowercased in
 * JavaScript (Unicode NFKC), and for scripts written without spaces, as every character and
 * every pair of neighbouring characters (bigrams, as pg_bigm does). The terms go into a text[]
 * column with a GIN index; English words keep the stemming 'english' full-text index.
 */

/** Only this much of a text is indexed, as for the full-text index (see db/schema.ts). */
export const INDEXED_CHARACTERS = 200_000;
/** A longer run of letters is indexed by its beginning (GIN keys have a size limit). */
const MAX_TERM_CHARACTERS = 64;

/** Scripts written without spaces between words (Korean has spaces, but glues on particles). */
const UNSPACED_SCRIPTS = [
  'Han',
  'Hiragana',
  'Katakana',
  'Hangul',
  'Thai',
  'Lao',
  'Khmer',
  'Myanmar',
  'Tibetan',
]
  .map((script) => `\\p{scx=${script}}`)
  .join('');
const UNSPACED = new RegExp(`[${UNSPACED_SCRIPTS}]`, 'u');
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
/** Splits a word into runs of unspaced-script characters and runs of everything else. */
const RUNS = new RegExp(`[${UNSPACED_SCRIPTS}]+|[^${UNSPACED_SCRIPTS}]+`, 'gu');
const NON_ASCII = /[^\p{ASCII}]/u;

/**
 * The terms of a word with letters outside ASCII; the English index has the others. A stored
 * text is indexed by each unspaced character and each pair; a search needs only the pairs
 * (or the character, alone), which say more and cost fewer index lookups.
 */
function addWordTerms(word: string, terms: Set<string>, purpose: 'index' | 'search'): void {
  for (const [run] of word.matchAll(RUNS)) {
    if (!UNSPACED.test(run)) {
      terms.add(Array.from(run).slice(0, MAX_TERM_CHARACTERS).join(''));
      continue;
    }
    const characters = Array.from(run);
    for (let i = 0; i < characters.length; i++) {
      const character = characters[i] as string;
      if (purpose === 'index' || characters.length === 1) terms.add(character);
      const next = characters[i + 1];
      if (next !== undefined) terms.add(character + next);
    }
  }
}

/** Folds text the way terms are compared: NFKC (full-width forms, ligatures), then lowercase. */
export function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** The terms a stored text is found by: empty for text in ASCII only (the common case, cheap). */
export function searchTerms(...texts: (string | null | undefined)[]): string[] {
  const terms = new Set<string>();
  for (const text of texts) {
    if (!text || !NON_ASCII.test(text)) continue;
    for (const [word] of fold(text.slice(0, INDEXED_CHARACTERS)).matchAll(WORD)) {
      if (NON_ASCII.test(word)) addWordTerms(word, terms, 'index');
    }
  }
  return [...terms];
}

/** One part of a search in other scripts: rows with every term (and the run, unbroken). */
export interface ScriptClause {
  terms: string[];
  /** Text of three or more unspaced characters, which must appear as written, not just its pairs. */
  runs: string[];
  negated: boolean;
}

/** A search split into what the English full-text index finds and what the terms find. */
export interface ParsedSearch {
  /** Web search syntax for websearch_to_tsquery('english', …); empty when there is none. */
  english: string;
  clauses: ScriptClause[];
}

/** Quoted phrases (an unclosed quote runs to the end), optionally negated, or single words. */
const CLAUSE = /(-?)"([^"]*)"?|(\S+)/g;

/**
 * Splits `q`. Words and phrases in ASCII keep web search syntax ("a phrase", or, -word) and go
 * to the English index; a word or phrase with letters outside ASCII must be found by its terms
 * (or, with a leading `-`, must not be). `or` joins English words only.
 */
export function parseSearch(q: string): ParsedSearch {
  const parts: ({ english: string } | ScriptClause)[] = [];
  for (const match of q.matchAll(CLAUSE)) {
    const [whole, quoteSign, quoted, bare] = match;
    const negated = quoteSign === '-' || (bare?.startsWith('-') ?? false);
    const text = quoted ?? (negated ? (bare ?? '').slice(1) : (bare ?? ''));
    const clause = NON_ASCII.test(text) ? scriptClause(text, negated) : undefined;
    if (clause === undefined) parts.push({ english: whole });
    else if (clause.terms.length > 0) parts.push(clause);
  }
  const english: string[] = [];
  parts.forEach((part, i) => {
    if (!('english' in part)) return;
    // "or" between a script clause and anything is meaningless to the English query, and alone
    // it would make that query empty.
    if (part.english.toLowerCase() === 'or') {
      const before = parts[i - 1];
      const after = parts[i + 1];
      if (!before || !after || !('english' in before) || !('english' in after)) return;
    }
    english.push(part.english);
  });
  return {
    english: english.join(' '),
    clauses: parts.filter((part): part is ScriptClause => !('english' in part)),
  };
}

function scriptClause(text: string, negated: boolean): ScriptClause {
  const terms = new Set<string>();
  const runs: string[] = [];
  for (const [word] of fold(text).matchAll(WORD)) {
    addWordTerms(word, terms, 'search');
    for (const [run] of word.matchAll(RUNS)) {
      if (UNSPACED.test(run) && Array.from(run).length >= 3) runs.push(run);
    }
  }
  return { terms: [...terms], runs, negated };
}
