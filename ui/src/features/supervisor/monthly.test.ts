import { describe, expect, it } from 'vitest';
import { defaultMonth, recentMonths, splitMinutes, svgImage } from './monthly';

describe('recentMonths', () => {
  it('counts back across the new year, newest first', () => {
    expect(recentMonths(new Date(2027, 1, 10), 4)).toEqual(['2027-02', '2027-01', '2026-12', '2026-11']);
  });
  it('offers the current month first', () => {
    expect(recentMonths(new Date(2026, 10, 30), 1)).toEqual(['2026-11']);
  });
});

describe('svgImage', () => {
  it('escapes the markup into a data address', () => {
    const url = svgImage('<svg><text>电源 & <b></text></svg>');
    expect(url.startsWith('data:image/svg+xml;charset=utf-8,')).toBe(true);
    expect(url).not.toContain('<');
    expect(decodeURIComponent(url.split(',')[1] ?? '')).toBe('<svg><text>电源 & <b></text></svg>');
  });
});

describe('splitMinutes', () => {
  it('keeps minutes under two hours and turns longer spans into hours', () => {
    expect(splitMinutes(null)).toBeNull();
    expect(splitMinutes(79.33)).toEqual({ value: 79.3, unit: 'min' });
    expect(splitMinutes(119)).toEqual({ value: 119, unit: 'min' });
    expect(splitMinutes(120)).toEqual({ value: 2, unit: 'h' });
    expect(splitMinutes(889)).toEqual({ value: 14.8, unit: 'h' });
  });
});

describe('defaultMonth', () => {
  it('offers the month just ended during the first week, else the current one', () => {
    expect(defaultMonth(new Date(2026, 11, 1))).toBe('2026-11');
    expect(defaultMonth(new Date(2027, 0, 7))).toBe('2026-12');
    expect(defaultMonth(new Date(2026, 10, 8))).toBe('2026-11');
    expect(defaultMonth(new Date(2026, 10, 30))).toBe('2026-11');
  });
});
