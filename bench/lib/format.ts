/** Numbers and durations as the report writes them. */

/** Whole numbers with thousands separators from 100 up, one decimal below. */
export function fmt(value: number): string {
  return value >= 100
    ? Math.round(value).toLocaleString('en-US')
    : String(Math.round(value * 10) / 10);
}

export function fmtDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}
