import { describe, expect, it } from 'vitest';
import { cellOf, flattenValue, JSON_LIMIT } from './conflict-value';

describe('a recorded value as rows', () => {
  it('keeps an object\'s fields in order, scalars as they are', () => {
    const value = {
      item_key: 'fan',
      reading: 12.5,
      required: true,
      note: '',
      supersedes: null,
      recorded_at: '2026-11-20T02:00:00Z',
      answer: { type: 'check', value: 'abnormal' },
      tags: ['a', 'b'],
      empty: [],
    };
    expect(flattenValue(value)).toEqual([
      { key: 'item_key', cell: { kind: 'text', text: 'fan' } },
      { key: 'reading', cell: { kind: 'number', value: 12.5 } },
      { key: 'required', cell: { kind: 'boolean', value: true } },
      { key: 'note', cell: { kind: 'empty' } },
      { key: 'supersedes', cell: { kind: 'empty' } },
      { key: 'recorded_at', cell: { kind: 'instant', iso: '2026-11-20T02:00:00Z' } },
      { key: 'answer', cell: { kind: 'json', text: '{"type":"check","value":"abnormal"}' } },
      { key: 'tags', cell: { kind: 'json', text: '["a","b"]' } },
      { key: 'empty', cell: { kind: 'empty' } },
    ]);
  });

  it('recognises instants with offsets and fractions, not other text', () => {
    expect(cellOf('2026-11-20T10:00:00.123+08:00')).toEqual({ kind: 'instant', iso: '2026-11-20T10:00:00.123+08:00' });
    expect(cellOf('2026-11-20')).toEqual({ kind: 'text', text: '2026-11-20' });
    expect(cellOf('2026-13-45T99:99:00Z')).toEqual({ kind: 'text', text: '2026-13-45T99:99:00Z' });
  });

  it('shows a value that is not an object as one unnamed row, and nothing as no rows', () => {
    expect(flattenValue('set_off')).toEqual([{ key: '', cell: { kind: 'text', text: 'set_off' } }]);
    expect(flattenValue([1, 2])).toEqual([{ key: '', cell: { kind: 'json', text: '[1,2]' } }]);
    expect(flattenValue(null)).toEqual([]);
    expect(flattenValue(undefined)).toEqual([]);
    expect(flattenValue({})).toEqual([]);
  });

  it('cuts long nested values', () => {
    const cell = cellOf({ text: 'x'.repeat(1000) });
    expect(cell.kind).toBe('json');
    if (cell.kind === 'json') {
      expect(cell.text.length).toBe(JSON_LIMIT);
      expect(cell.text.endsWith('…')).toBe(true);
    }
  });

  it('keeps Chinese text as it is', () => {
    expect(flattenValue({ symptom: '无图像' })).toEqual([{ key: 'symptom', cell: { kind: 'text', text: '无图像' } }]);
  });

  it('shows non-finite numbers as text', () => {
    expect(cellOf(Number.POSITIVE_INFINITY)).toEqual({ kind: 'text', text: 'Infinity' });
  });
});
