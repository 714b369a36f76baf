/**
 * Text as askbase can keep it: PostgreSQL text cannot hold NUL, and a lone surrogate is no
 * UTF-8; a question or an answer already paid for must not be refused for either. Both become
 * U+FFFD, the replacement character, and the rest is kept as given.
 */
export function storableText(text: string): string;
export function storableText(text: string | null): string | null;
export function storableText(text: string | null): string | null {
  if (text === null) return null;
  const safe = text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
  return safe.isWellFormed() ? safe : safe.toWellFormed();
}

/** The longest question text a row keeps for display and search (a request keeps it all). */
const QUESTION_MAX_CHARS = 1_000_000;

/**
 * A message's text as a row's question: storable, cut to QUESTION_MAX_CHARS, and never blank
 * (a message without text, such as a tool's output or an image, is named instead).
 */
export function displayedQuestion(whole: string, what: string): string {
  // Cut on a code unit, a surrogate pair may split: storableText mends that too.
  const text = storableText(
    whole.length > QUESTION_MAX_CHARS ? whole.slice(0, QUESTION_MAX_CHARS) : whole,
  );
  return text.trim() === '' ? `(a ${what} message without text)` : text;
}
