import { describe, expect, it } from 'vitest';
import { describeProgress, progressInfo } from './progress';

describe('sync progress', () => {
  it('is absent when no sync runs', () => {
    expect(progressInfo(null)).toBeNull();
    expect(progressInfo(undefined)).toBeNull();
  });

  it('gives whole percents that reach 100 only when done', () => {
    expect(progressInfo({ phase: 'sending', done: 3, total: 10 })).toEqual({
      phase: 'sending',
      done: 3,
      total: 10,
      percent: 30,
    });
    expect(progressInfo({ phase: 'sending', done: 199, total: 200 })?.percent).toBe(99);
    expect(progressInfo({ phase: 'fetching', done: 5, total: 5 })?.percent).toBe(100);
  });

  it('clamps what the backend reports', () => {
    expect(progressInfo({ phase: 'uploading', done: 12, total: 10 })).toMatchObject({ done: 10, percent: 100 });
    expect(progressInfo({ phase: 'uploading', done: -4, total: 10 })).toMatchObject({ done: 0, percent: 0 });
  });

  it('counts nothing to do as done', () => {
    expect(progressInfo({ phase: 'sending', done: 0, total: 0 })).toMatchObject({ total: 0, percent: 100 });
  });

  it('is indeterminate while receiving, or without a total', () => {
    expect(progressInfo({ phase: 'receiving', done: 40, total: null })).toEqual({
      phase: 'receiving',
      done: 40,
      total: null,
      percent: null,
    });
    expect(progressInfo({ phase: 'receiving', done: 40, total: 100 })?.percent).toBeNull();
    expect(progressInfo({ phase: 'sending', done: 1, total: null })?.percent).toBeNull();
  });

  it('names an unknown phase "other"', () => {
    expect(progressInfo({ phase: 'compacting', done: 1, total: 2 })?.phase).toBe('other');
  });

  it('describes each phase in both languages, uploads in bytes', () => {
    const text = (phase: string, done: number, total: number | null, locale: 'en' | 'zh-CN' = 'en') => {
      const info = progressInfo({ phase, done, total });
      if (!info) throw new Error('no progress');
      return describeProgress(locale, info);
    };
    expect(text('sending', 3, 10)).toBe('Sending changes: 3 of 10');
    expect(text('uploading', 1_200_000, 3_400_000)).toBe('Uploading photos: 1.2 MB of 3.4 MB');
    expect(text('receiving', 1200, null)).toBe('Receiving changes: 1,200 so far');
    expect(text('fetching', 2, 5)).toBe('Fetching photos: 2 of 5');
    expect(text('sending', 3, 10, 'zh-CN')).toBe('正在上传更改：3 / 10');
    expect(text('receiving', 40, null, 'zh-CN')).toBe('正在接收更改：已收到 40 条');
  });
});
