import { describe, expect, it } from 'vitest';
import { formatBytes, formatRecent } from './format';

const shanghai = { timeZone: 'Asia/Shanghai' };

describe('byte sizes', () => {
  it('reads at a glance in decimal units', () => {
    const cases: [number, string][] = [
      [0, '0 B'],
      [812, '812 B'],
      [999, '999 B'],
      [1000, '1 kB'],
      [1234, '1.2 kB'],
      [45_600, '46 kB'],
      [2_300_000, '2.3 MB'],
      [2_345_678, '2.3 MB'],
      [45_000_000, '45 MB'],
      [1_200_000_000, '1.2 GB'],
      [3_000_000_000_000, '3 TB'],
    ];
    for (const [bytes, text] of cases) expect(formatBytes('en', bytes), `${bytes}`).toBe(text);
  });

  it('picks the unit after rounding, so it never reads 1,000 of a unit', () => {
    expect(formatBytes('en', 999_499)).toBe('999 kB');
    expect(formatBytes('en', 999_500)).toBe('1 MB');
    expect(formatBytes('en', 9_960)).toBe('10 kB');
  });

  it('speaks the locale', () => {
    expect(formatBytes('zh-CN', 2_300_000)).toBe('2.3 MB');
    expect(formatBytes('zh-CN', 1234)).toBe('1.2 KB');
    expect(formatBytes('en', 123_456_789_000_000)).toBe('123 TB');
    expect(formatBytes('en', 1_234_567_000_000_000)).toBe('1,235 TB');
  });

  it('treats nonsense as nothing', () => {
    expect(formatBytes('en', -5)).toBe('0 B');
    expect(formatBytes('en', Number.NaN)).toBe('0 B');
  });
});

describe('recent instants', () => {
  const now = '2026-11-20T06:00:00Z'; // 14:00 in Beijing

  it('shows only the time on the same day', () => {
    expect(formatRecent('en', '2026-11-20T02:05:00Z', now, shanghai)).toBe('10:05');
    expect(formatRecent('zh-CN', '2026-11-20T02:05:00Z', now, shanghai)).toBe('10:05');
  });

  it('shows date and time on another day, in the zone shown', () => {
    // 23:30 on the 19th in Beijing is still "yesterday" there.
    expect(formatRecent('en', '2026-11-19T15:30:00Z', now, shanghai)).toBe('19 Nov 2026, 23:30');
    expect(formatRecent('zh-CN', '2026-11-19T15:30:00Z', now, shanghai)).toBe('2026年11月19日 23:30');
  });

  it('shows text it cannot read as it is', () => {
    expect(formatRecent('en', 'soon', now)).toBe('soon');
  });
});
