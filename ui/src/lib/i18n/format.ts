// Message lookup and locale-aware formatting as plain functions of an explicit locale. The
// reactive module (`locale.svelte.ts`) binds them to the current locale; tests call them
// directly.

import type { Bilingual } from '$lib/bindings/Bilingual';
import type { Locale } from '$lib/bindings/Locale';
import { catalogues } from './catalogues';
import type { MessageArgs, MessageKey, ParamValue } from './messages';

/**
 * The Intl locale behind each UI locale. English uses the British conventions because they
 * give the day-month-year order and 24-hour clock field technicians in China expect
 * ("20 Nov 2026, 10:00"), rather than the US "Nov 20, 2026, 10:00 AM".
 */
const intlLocale: { readonly [L in Locale]: string } = {
  'zh-CN': 'zh-CN',
  en: 'en-GB',
};

/** Fills `{name}` placeholders; a placeholder without a value is left as it is. */
export function interpolate(
  locale: Locale,
  template: string,
  params: Readonly<Record<string, ParamValue>> | undefined,
): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? formatNumber(locale, value) : value;
  });
}

/** The message `key` in `locale`, with its placeholders filled. */
export function translate<K extends MessageKey>(locale: Locale, key: K, ...args: MessageArgs<K>): string {
  const template = catalogues[locale][key];
  const params = args[0] as Readonly<Record<string, ParamValue>> | undefined;
  return interpolate(locale, template, params);
}

/** Text Fieldbook itself supplies in both languages (checklist labels, template names). */
export function pickBilingual(locale: Locale, text: Bilingual): string {
  const preferred = locale === 'zh-CN' ? text.zh : text.en;
  // A template written in one language only still shows something.
  return preferred.trim() !== '' ? preferred : locale === 'zh-CN' ? text.en : text.zh;
}

// Intl formatters are costly to build and the list formats a row per visible line every
// second, so each distinct (locale, options) pair is built once.
const formatterCache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dateTimeFormat(locale: Locale, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const cacheKey = `dt|${locale}|${JSON.stringify(options)}`;
  let formatter = formatterCache.get(cacheKey);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(intlLocale[locale], options);
    formatterCache.set(cacheKey, formatter);
  }
  return formatter as Intl.DateTimeFormat;
}

function numberFormat(locale: Locale, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const cacheKey = `n|${locale}|${JSON.stringify(options)}`;
  let formatter = formatterCache.get(cacheKey);
  if (!formatter) {
    formatter = new Intl.NumberFormat(intlLocale[locale], options);
    formatterCache.set(cacheKey, formatter);
  }
  return formatter as Intl.NumberFormat;
}

/** Where times are shown: the device's own zone unless a caller (a test) names one. */
export interface ZoneOption {
  timeZone?: string;
}

function zoned(options: Intl.DateTimeFormatOptions, zone: ZoneOption | undefined): Intl.DateTimeFormatOptions {
  return zone?.timeZone ? { ...options, timeZone: zone.timeZone } : options;
}

const dateOptions: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric' };
const timeOptions: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

function toDate(instant: string | number | Date): Date {
  return instant instanceof Date ? instant : new Date(instant);
}

/** An instant (RFC 3339 text from the backend) as a date: "2026年11月20日" / "20 Nov 2026". */
export function formatDate(locale: Locale, instant: string | number | Date, zone?: ZoneOption): string {
  return dateTimeFormat(locale, zoned(dateOptions, zone)).format(toDate(instant));
}

/** An instant as a 24-hour time of day: "10:00". */
export function formatTime(locale: Locale, instant: string | number | Date, zone?: ZoneOption): string {
  return dateTimeFormat(locale, zoned(timeOptions, zone)).format(toDate(instant));
}

/**
 * An instant as date and time: "2026年11月20日 10:00" / "20 Nov 2026, 10:00". Date and time are
 * formatted apart and joined by the catalogue's pattern, because how Intl joins them ("at",
 * a comma, a space) differs between ICU versions, and WebKitGTK's need not match Node's.
 */
export function formatDateTime(locale: Locale, instant: string | number | Date, zone?: ZoneOption): string {
  const date = toDate(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  return translate(locale, 'datetime.pattern', {
    date: formatDate(locale, date, zone),
    time: formatTime(locale, date, zone),
  });
}

/**
 * A calendar date without a time or zone (Rust `NaiveDate`, "2027-03-31"). It is formatted in
 * UTC so that no zone moves it to the day before.
 */
export function formatCalendarDate(locale: Locale, isoDate: string): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return isoDate;
  return dateTimeFormat(locale, { ...dateOptions, timeZone: 'UTC' }).format(date);
}

export function formatNumber(locale: Locale, value: number, options: Intl.NumberFormatOptions = {}): string {
  return numberFormat(locale, options).format(value);
}

/** An amount in cents (分) of yuan: "¥88.00" / "CN¥88.00". */
export function formatMoneyCents(locale: Locale, cents: number): string {
  return formatNumber(locale, cents / 100, { style: 'currency', currency: 'CNY' });
}

export interface DurationParts {
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** Splits a non-negative number of seconds into whole days, hours, minutes and seconds. */
export function splitDuration(totalSeconds: number): DurationParts {
  const whole = Math.max(0, Math.floor(totalSeconds));
  return {
    days: Math.floor(whole / 86_400),
    hours: Math.floor((whole % 86_400) / 3_600),
    minutes: Math.floor((whole % 3_600) / 60),
    seconds: whole % 60,
  };
}

/**
 * A span short enough to read at a glance: the two largest units that matter, and seconds
 * only in the last ten minutes, where they are worth watching.
 * "1天3小时" / "1 d 3 h", "1小时12分" / "1 h 12 min", "25分" / "25 min", "4分5秒" / "4 min 5 s".
 */
export function formatDuration(locale: Locale, totalSeconds: number): string {
  const whole = Math.max(0, Math.floor(totalSeconds));
  const { days, hours, minutes, seconds } = splitDuration(whole);
  if (days > 0) return translate(locale, 'duration.days_hours', { d: days, h: hours });
  if (hours > 0) return translate(locale, 'duration.hours_minutes', { h: hours, m: minutes });
  if (whole >= 600) return translate(locale, 'duration.minutes', { m: minutes });
  if (minutes > 0) return translate(locale, 'duration.minutes_seconds', { m: minutes, s: seconds });
  return translate(locale, 'duration.seconds', { s: seconds });
}

const byteUnits = ['sync.bytes.b', 'sync.bytes.kb', 'sync.bytes.mb', 'sync.bytes.gb', 'sync.bytes.tb'] as const;

/**
 * A size in bytes at a glance, in decimal (SI) units: "812 B", "2.3 MB", "45 MB", "1.2 GB".
 * One decimal below 10 of a unit, none above; the unit is chosen after rounding, so 999,999
 * bytes read "1 MB", never "1,000 kB".
 */
export function formatBytes(locale: Locale, bytes: number): string {
  const whole = Number.isFinite(bytes) ? Math.max(0, Math.round(bytes)) : 0;
  if (whole < 1000) return translate(locale, 'sync.bytes.b', { n: formatNumber(locale, whole) });
  let value = whole;
  for (let unit = 1; unit < byteUnits.length; unit++) {
    value /= 1000;
    const digits = value < 10 ? 1 : 0;
    const factor = 10 ** digits;
    const rounded = Math.round(value * factor) / factor;
    if (rounded < 1000 || unit === byteUnits.length - 1) {
      const key = byteUnits[unit] ?? 'sync.bytes.tb';
      return translate(locale, key, { n: formatNumber(locale, rounded, { maximumFractionDigits: digits }) });
    }
  }
  return translate(locale, 'sync.bytes.b', { n: formatNumber(locale, whole) });
}

/**
 * An instant as briefly as it stays clear: its time alone when it falls on the same day as
 * `now` (in the zone shown), else date and time. "10:05" / "19 Nov 2026, 18:30".
 */
export function formatRecent(
  locale: Locale,
  instant: string | number | Date,
  now: string | number | Date,
  zone?: ZoneOption,
): string {
  const date = toDate(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  const today = toDate(now);
  if (!Number.isNaN(today.getTime()) && formatDate(locale, date, zone) === formatDate(locale, today, zone)) {
    return formatTime(locale, date, zone);
  }
  return formatDateTime(locale, date, zone);
}
