// `<input type="datetime-local">` speaks the device's wall-clock time without a zone
// ("2026-11-20T10:05"); the backend stores instants in UTC (RFC 3339). These convert between
// them in the device's time zone.

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** An instant as a datetime-local value in the device's zone; empty for none or nonsense. */
export function isoToLocalInput(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/**
 * A datetime-local value, read in the device's zone, as an ISO instant in UTC; null for an
 * empty or incomplete field (the input gives "" until every part is filled in).
 */
export function localInputToIso(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(value.trim());
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match;
  const date = new Date(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second ?? 0));
  // new Date rolls 31 February over into March; a value that does not round-trip is refused.
  if (Number.isNaN(date.getTime()) || date.getDate() !== Number(day) || date.getMonth() !== Number(month) - 1) {
    return null;
  }
  return date.toISOString();
}
