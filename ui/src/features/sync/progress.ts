// A running sync's progress as a progress bar shows it: how far, in which phase, and the words
// for screen readers and the tooltip. Pure: the locale is passed in.

import type { Locale } from '$lib/bindings/Locale';
import type { ProgressView } from '$lib/bindings/ProgressView';
import { formatBytes, formatNumber, translate } from '$lib/i18n/format';

export type ProgressPhase = 'sending' | 'uploading' | 'receiving' | 'fetching' | 'other';

export interface ProgressInfo {
  phase: ProgressPhase;
  /** How far, never negative and never beyond `total`. */
  done: number;
  /** Null while the size is not known ahead (receiving): the bar is indeterminate. */
  total: number | null;
  /** Whole percent 0..100, or null when indeterminate. Reaches 100 only when done. */
  percent: number | null;
}

const phases: readonly ProgressPhase[] = ['sending', 'uploading', 'receiving', 'fetching'];

function phaseOf(phase: string): ProgressPhase {
  return (phases as readonly string[]).includes(phase) ? (phase as ProgressPhase) : 'other';
}

function count(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.floor(value)) : 0;
}

/** The bar for `progress`, or null when no sync runs. */
export function progressInfo(progress: ProgressView | null | undefined): ProgressInfo | null {
  if (!progress) return null;
  const phase = phaseOf(progress.phase);
  const rawTotal = progress.total;
  if (phase === 'receiving' || rawTotal === null || !Number.isFinite(rawTotal)) {
    return { phase, done: count(progress.done), total: null, percent: null };
  }
  const total = count(rawTotal);
  // Nothing to do is as good as done.
  if (total === 0) return { phase, done: 0, total: 0, percent: 100 };
  const done = Math.min(count(progress.done), total);
  return { phase, done, total, percent: Math.floor((done / total) * 100) };
}

/** "Sending changes: 3 of 10", "Uploading photos: 1.2 MB of 3.4 MB", "Receiving changes: 40 so far". */
export function describeProgress(locale: Locale, info: ProgressInfo): string {
  const amount = (value: number) =>
    info.phase === 'uploading' ? formatBytes(locale, value) : formatNumber(locale, value);
  const done = amount(info.done);
  const total = info.total === null ? '' : amount(info.total);
  switch (info.phase) {
    case 'sending':
      return translate(locale, 'sync.progress.sending', { done, total });
    case 'uploading':
      return translate(locale, 'sync.progress.uploading', { done, total });
    case 'fetching':
      return translate(locale, 'sync.progress.fetching', { done, total });
    case 'receiving':
      return translate(locale, 'sync.progress.receiving', { done });
    case 'other':
      return translate(locale, 'sync.progress.other', { done });
  }
}
