// The current UI locale, as Svelte 5 state, and the catalogue functions bound to it. Anything
// a component renders through `t()` or the `format*` helpers re-renders when the locale
// changes, because they read `current.locale`.

import type { Bilingual } from '$lib/bindings/Bilingual';
import type { Locale } from '$lib/bindings/Locale';
import { fallbackLocale } from './catalogues';
import * as format from './format';
import type { MessageArgs, MessageKey } from './messages';

const current = $state<{ locale: Locale }>({ locale: fallbackLocale });

/** The locale the UI speaks now. */
export function currentLocale(): Locale {
  return current.locale;
}

/**
 * Switches the UI's language. Persisting the choice is the backend's job (`setLocale` in
 * backend.ts); this only changes what is shown, and the page's `lang` so that screen readers
 * and CJK font selection follow.
 */
export function applyLocale(locale: Locale): void {
  current.locale = locale;
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}

export function t<K extends MessageKey>(key: K, ...args: MessageArgs<K>): string {
  return format.translate(current.locale, key, ...args);
}

export function pick(text: Bilingual): string {
  return format.pickBilingual(current.locale, text);
}

export function formatDateTime(instant: string | number | Date): string {
  return format.formatDateTime(current.locale, instant);
}

export function formatDate(instant: string | number | Date): string {
  return format.formatDate(current.locale, instant);
}

export function formatCalendarDate(isoDate: string): string {
  return format.formatCalendarDate(current.locale, isoDate);
}

export function formatNumber(value: number, options: Intl.NumberFormatOptions = {}): string {
  return format.formatNumber(current.locale, value, options);
}

export function formatMoneyCents(cents: number): string {
  return format.formatMoneyCents(current.locale, cents);
}

export function formatDuration(seconds: number): string {
  return format.formatDuration(current.locale, seconds);
}

export function formatBytes(bytes: number): string {
  return format.formatBytes(current.locale, bytes);
}

/** An instant's time alone when it is today, else its date and time. */
export function formatRecent(instant: string | number | Date, now: string | number | Date = Date.now()): string {
  return format.formatRecent(current.locale, instant, now);
}
