import type { Locale } from '$lib/bindings/Locale';
import { en } from './en';
import type { Messages } from './messages';
import { zhCN } from './zh-CN';

export const catalogues: { readonly [L in Locale]: Messages } = {
  'zh-CN': zhCN,
  en,
};

/** Every locale the UI offers, in the order the switch shows them. */
export const locales: readonly Locale[] = ['zh-CN', 'en'];

/** The locale to use until the backend's settings arrive: the one most users read. */
export const fallbackLocale: Locale = 'zh-CN';
