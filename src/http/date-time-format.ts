// RFC 3339, the profile of ISO-8601 that JSON Schema's "date-time" names: a full date, a time
// and an explicit offset, so no instant depends on the server's time zone.
const RFC_3339 =
  /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;

/** True for a valid RFC 3339 date-time such as `2026-11-22T01:49:38Z` or `…38.123+01:00`. */
export function isDateTime(value: string): boolean {
  const match = RFC_3339.exec(value);
  const day = match?.[1];
  if (day === undefined || day.startsWith('0000')) return false;
  // Date rolls 2026-02-30 over into March; a real calendar day reads back unchanged.
  const midnight = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(midnight.getTime()) && midnight.toISOString().startsWith(day);
}

/** An instant to the microsecond, PostgreSQL's precision, in the form PostgreSQL reads back exactly. */
export interface Instant {
  /** UTC with six fractional digits: 2026-11-22T01:49:38.123456Z */
  iso: string;
  microseconds: bigint;
}

// Years 1 to 9999 in UTC: what RFC 3339 can write and PostgreSQL reads. An offset can carry a
// valid date-time out of that range (0001-01-01T00:00:00+23:59).
const FIRST_MS = Date.parse('0001-01-01T00:00:00Z');
const AFTER_LAST_MS = Date.parse('+010000-01-01T00:00:00Z');

/**
 * Reads a valid RFC 3339 date-time as an instant, or says why it cannot be honoured exactly:
 * more than microsecond precision, or outside years 1 to 9999 once in UTC.
 */
export function toInstant(value: string): Instant | 'too precise' | 'out of range' {
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
  if (fraction.length > 6) return 'too precise';
  const milliseconds = Date.parse(
    value.replace(/\.\d+/, `.${fraction.padEnd(3, '0').slice(0, 3)}`),
  );
  if (!(milliseconds >= FIRST_MS && milliseconds < AFTER_LAST_MS)) return 'out of range';
  const extra = fraction.padEnd(6, '0').slice(3);
  return {
    iso: new Date(milliseconds).toISOString().replace('Z', `${extra}Z`),
    microseconds: BigInt(milliseconds) * 1000n + BigInt(extra),
  };
}
