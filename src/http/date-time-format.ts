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
