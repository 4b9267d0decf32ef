import { describe, expect, it } from 'vitest';
import { isoToLocalInput, localInputToIso } from './datetime';

describe('datetime-local values and ISO instants', () => {
  it('reads a datetime-local value in the device zone', () => {
    const local = new Date(2026, 10, 20, 10, 5, 0);
    expect(localInputToIso('2026-11-20T10:05')).toBe(local.toISOString());
    expect(localInputToIso('2026-11-20T10:05:30')).toBe(new Date(2026, 10, 20, 10, 5, 30).toISOString());
  });

  it('shows an instant in the device zone, to the minute', () => {
    const instant = new Date(2026, 10, 20, 9, 7, 45).toISOString();
    expect(isoToLocalInput(instant)).toBe('2026-11-20T09:07');
  });

  it('round-trips a value the input gives', () => {
    for (const value of ['2026-01-01T00:00', '2026-06-30T23:59', '2027-02-28T12:30']) {
      const iso = localInputToIso(value);
      expect(iso).not.toBeNull();
      expect(isoToLocalInput(iso)).toBe(value);
    }
  });

  it('gives null for an empty, incomplete or impossible value', () => {
    expect(localInputToIso('')).toBeNull();
    expect(localInputToIso('2026-11-20')).toBeNull();
    expect(localInputToIso('2026-02-31T10:00')).toBeNull();
    expect(localInputToIso('nonsense')).toBeNull();
    expect(isoToLocalInput(null)).toBe('');
    expect(isoToLocalInput('nonsense')).toBe('');
  });

  it('produces UTC instants the backend parses', () => {
    expect(localInputToIso('2026-11-20T10:05')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});
