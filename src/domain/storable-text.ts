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
