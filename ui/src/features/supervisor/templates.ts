// The checklist editor's pure parts: a new item, changing an item's kind of answer, the
// version a save makes, and prices typed in yuan.

import type { ChecklistItem } from '$lib/bindings/ChecklistItem';
import type { ItemKind } from '$lib/bindings/ItemKind';
import type { Method } from '$lib/bindings/Method';
import type { TemplateSummary } from '$lib/bindings/TemplateSummary';

export type KindName = ItemKind['type'];

/** A new item: checked normal / abnormal, required, with no key (the backend gives one). */
export function blankItem(method: Method = 'look'): ChecklistItem {
  return {
    key: '',
    method,
    standard: null,
    label: { zh: '', en: '' },
    kind: { type: 'check' },
    required: true,
    photo_required: false,
  };
}

/** The item's answer as `kind`, keeping a reading's unit and limits when it stays a reading. */
export function withKind(item: ChecklistItem, kind: KindName): ChecklistItem {
  if (kind === item.kind.type) return item;
  const next: ItemKind = kind === 'reading' ? { type: 'reading', unit: '', min: null, max: null } : { type: kind };
  return { ...item, kind: next };
}

/** A limit typed into a field: empty is no limit, anything not a number is no limit either. */
export function limit(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/** The version saving `code` makes: one above the highest on the device, 1 for a new code. */
export function nextVersion(catalog: TemplateSummary[], code: string): number {
  return catalog.filter((t) => t.code === code.trim()).reduce((top, t) => Math.max(top, t.version), 0) + 1;
}

/** Yuan typed with at most two decimals as cents; null when it is not such an amount. */
export function yuanToCents(text: string): number | null {
  const match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** Cents as yuan for a field: 8800 → "88.00". */
export function centsToYuan(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}
