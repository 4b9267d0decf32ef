// The message catalogue. Components import from here and show no literal text of their own.

export { locales, fallbackLocale } from './catalogues';
export type { MessageKey, Messages } from './messages';
export {
  currentLocale,
  applyLocale,
  t,
  pick,
  formatDateTime,
  formatDate,
  formatCalendarDate,
  formatNumber,
  formatMoneyCents,
  formatDuration,
  formatBytes,
  formatRecent,
} from './locale.svelte';
