// How checklist items and answers read in the current language.

import type { Answer } from '$lib/bindings/Answer';
import type { ChecklistTemplate } from '$lib/bindings/ChecklistTemplate';
import type { ItemKind } from '$lib/bindings/ItemKind';
import type { Locale } from '$lib/bindings/Locale';
import type { Missing } from '$lib/bindings/Missing';
import { currentLocale, formatNumber, t } from '$lib/i18n';
import * as format from '$lib/i18n/format';

/** "Reading in °C, 0 to 45", "Normal / abnormal check", … */
export function describeItemKind(kind: ItemKind): string {
  switch (kind.type) {
    case 'check':
      return t('item_kind.check');
    case 'text':
      return t('item_kind.text');
    case 'photo':
      return t('item_kind.photo');
    case 'reading': {
      const { unit, min, max } = kind;
      if (min !== null && max !== null) {
        return t('item_kind.reading_range', { unit, min: formatNumber(min), max: formatNumber(max) });
      }
      if (min !== null) return t('item_kind.reading_min', { unit, min: formatNumber(min) });
      if (max !== null) return t('item_kind.reading_max', { unit, max: formatNumber(max) });
      return t('item_kind.reading', { unit });
    }
  }
}

/**
 * An answer as text; a reading carries the unit of its item (none when `kind` is unknown).
 * In the UI's language unless `locale` is given.
 */
export function describeAnswer(answer: Answer, kind: ItemKind | null | undefined, locale: Locale = currentLocale()): string {
  switch (answer.type) {
    case 'check':
      return format.translate(locale, `answer.${answer.value}`);
    case 'reading':
      return format
        .translate(locale, 'answer.reading', {
          value: format.formatNumber(locale, answer.value),
          unit: kind?.type === 'reading' ? kind.unit.trim() : '',
        })
        .trim();
    case 'text':
      return answer.value;
    case 'photo_attached':
      return format.translate(locale, 'answer.photo_attached');
  }
}

/**
 * A checklist item's label from the template, or its key when the template does not have it.
 * In the UI's language unless `locale` is given.
 */
export function itemLabel(
  template: ChecklistTemplate | null | undefined,
  key: string,
  locale: Locale = currentLocale(),
): string {
  const item = template?.items.find((candidate) => candidate.key === key);
  return item ? format.pickBilingual(locale, item.label) : key;
}

/** What still blocks completion, naming the item by its label rather than its key. */
export function describeMissing(missing: Missing, template: ChecklistTemplate | null): string {
  switch (missing.type) {
    case 'required_item':
      return t('missing.required_item', { item: itemLabel(template, missing.key) });
    case 'photo_for_item':
      return t('missing.photo_for_item', { item: itemLabel(template, missing.key) });
    case 'sign_off':
      return t('missing.sign_off');
    case 'fault_record':
      return t('missing.fault_record');
  }
}
