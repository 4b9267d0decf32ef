import { describe, expect, it } from 'vitest';
import type { ItemKind } from '$lib/bindings/ItemKind';
import { result } from '../work-orders/fixtures';
import {
  answerChanges,
  checkOutcome,
  currentResultFor,
  isAcceptedImage,
  parseReading,
  photosOfItem,
  readingFlag,
  readingText,
  sniffImageType,
} from './answers';

const temperature: ItemKind = { type: 'reading', unit: '°C', min: 0, max: 45 };

describe('parseReading', () => {
  it('reads numbers with a point or a comma, and a sign', () => {
    expect(parseReading(' 38.5 ')).toEqual({ kind: 'value', value: 38.5 });
    expect(parseReading('38,5')).toEqual({ kind: 'value', value: 38.5 });
    expect(parseReading('-4')).toEqual({ kind: 'value', value: -4 });
    expect(parseReading('.5')).toEqual({ kind: 'value', value: 0.5 });
  });

  it('tells empty from invalid', () => {
    expect(parseReading('  ')).toEqual({ kind: 'empty' });
    expect(parseReading('12a')).toEqual({ kind: 'invalid' });
    expect(parseReading('1.2.3')).toEqual({ kind: 'invalid' });
    expect(parseReading('-')).toEqual({ kind: 'invalid' });
  });
});

describe('readingFlag (the rule of ChecklistTemplate::assess)', () => {
  it('flags readings outside the limits, the limits themselves being in range', () => {
    expect(readingFlag(temperature, 45)).toBeNull();
    expect(readingFlag(temperature, 0)).toBeNull();
    expect(readingFlag(temperature, 45.1)).toBe('above');
    expect(readingFlag(temperature, -0.1)).toBe('below');
  });

  it('checks only the limits that are set', () => {
    expect(readingFlag({ type: 'reading', unit: 'V', min: 200, max: null }, 1e6)).toBeNull();
    expect(readingFlag({ type: 'reading', unit: 'V', min: null, max: null }, -1)).toBeNull();
    expect(readingFlag({ type: 'check' }, 1)).toBeNull();
  });
});

describe('the answer in force', () => {
  const hot = result('r2', 'test.temp', { answer: { type: 'reading', value: 58.5 }, assessment: 'abnormal', note: 'fan stuck' });

  it('is looked up by item key', () => {
    expect(currentResultFor([result('r1', 'listen.fan'), hot], 'test.temp')).toBe(hot);
    expect(currentResultFor([hot], 'other')).toBeNull();
  });

  it('shows as the inputs show it', () => {
    expect(readingText(hot)).toBe('58.5');
    expect(readingText(null)).toBe('');
    expect(checkOutcome(result('r', 'k', { answer: { type: 'check', value: 'abnormal' } }))).toBe('abnormal');
    expect(checkOutcome(hot)).toBeNull();
  });

  it('changes only with another answer or another note', () => {
    expect(answerChanges(hot, { type: 'reading', value: 58.5 }, 'fan stuck')).toBe(false);
    expect(answerChanges(hot, { type: 'reading', value: 58 }, 'fan stuck')).toBe(true);
    expect(answerChanges(hot, { type: 'reading', value: 58.5 }, '')).toBe(true);
    expect(answerChanges(null, { type: 'check', value: 'normal' }, '')).toBe(true);
  });
});

describe('photos', () => {
  const photo = (blob: string, key: string | null) => ({
    blob,
    work_order_id: 'wo',
    item_key: key,
    caption: '',
    taken_at: '2026-11-20T03:00:00Z',
  });

  it('belong to the item they were attached to', () => {
    expect(photosOfItem([photo('a', 'k'), photo('b', null), photo('c', 'k')], 'k').map((p) => p.blob)).toEqual(['a', 'c']);
  });

  it('are JPEG, PNG or WebP', () => {
    expect(['image/jpeg', 'image/png', 'image/webp'].every(isAcceptedImage)).toBe(true);
    expect(isAcceptedImage('image/gif')).toBe(false);
    expect(isAcceptedImage('')).toBe(false);
  });

  it('are recognised by their first bytes', () => {
    expect(sniffImageType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('image/png');
    const webp = new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]);
    expect(sniffImageType(webp)).toBe('image/webp');
    expect(sniffImageType(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });
});
