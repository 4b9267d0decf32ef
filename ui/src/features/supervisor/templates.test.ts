import { describe, expect, it } from 'vitest';
import type { TemplateSummary } from '$lib/bindings/TemplateSummary';
import { blankItem, centsToYuan, limit, nextVersion, withKind, yuanToCents } from './templates';

const summary = (code: string, version: number): TemplateSummary => ({
  id: `${code}-${version}`,
  code,
  version,
  name: { zh: code, en: code },
  items: 3,
  in_use: 0,
  latest: false,
});

describe('withKind', () => {
  it('gives a reading a unit and open limits, and leaves an unchanged kind alone', () => {
    const item = blankItem('test');
    const reading = withKind(item, 'reading');
    expect(reading.kind).toEqual({ type: 'reading', unit: '', min: null, max: null });
    expect(withKind(reading, 'reading')).toBe(reading);
    expect(withKind(reading, 'text').kind).toEqual({ type: 'text' });
    expect(item.kind).toEqual({ type: 'check' });
  });
});

describe('limit', () => {
  it('reads numbers and treats anything else as no limit', () => {
    expect(limit('')).toBeNull();
    expect(limit(' 12.5 ')).toBe(12.5);
    expect(limit('-3')).toBe(-3);
    expect(limit('abc')).toBeNull();
  });
});

describe('nextVersion', () => {
  it('counts from the highest version of the code', () => {
    const catalog = [summary('patrol.general', 1), summary('patrol.general', 3), summary('patrol.cctv', 7)];
    expect(nextVersion(catalog, 'patrol.general')).toBe(4);
    expect(nextVersion(catalog, ' patrol.cctv ')).toBe(8);
    expect(nextVersion(catalog, 'new.code')).toBe(1);
  });
});

describe('yuan and cents', () => {
  it('reads at most two decimals and writes two', () => {
    expect(yuanToCents('88')).toBe(8800);
    expect(yuanToCents('88.5')).toBe(8850);
    expect(yuanToCents('0.05')).toBe(5);
    expect(yuanToCents('1.234')).toBeNull();
    expect(yuanToCents('-1')).toBeNull();
    expect(yuanToCents('')).toBeNull();
    expect(centsToYuan(8800)).toBe('88.00');
    expect(centsToYuan(5)).toBe('0.05');
  });
});
