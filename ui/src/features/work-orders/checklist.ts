// The checklist as the detail screen shows it: items grouped by 听摸视嗅验 in that order, each
// with the answer now in force.

import type { ChecklistItem } from '$lib/bindings/ChecklistItem';
import type { ChecklistTemplate } from '$lib/bindings/ChecklistTemplate';
import type { InspectionResult } from '$lib/bindings/InspectionResult';
import type { Method } from '$lib/bindings/Method';

export const methodOrder = ['listen', 'touch', 'look', 'smell', 'test'] as const satisfies readonly Method[];

type Unordered<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
export const everyMethodHasASection: Unordered<Method, (typeof methodOrder)[number]> = true;

export interface ChecklistRow {
  item: ChecklistItem;
  /** The answer in force, if the item has one. */
  result: InspectionResult | null;
}

export interface ChecklistSection {
  method: Method;
  rows: ChecklistRow[];
  answered: number;
}

/** Sections in method order, items in template order within each; empty methods are left out. */
export function checklistSections(
  template: ChecklistTemplate,
  currentResults: readonly InspectionResult[],
): ChecklistSection[] {
  const resultByKey = new Map(currentResults.map((result) => [result.item_key, result]));
  const sections: ChecklistSection[] = [];
  for (const method of methodOrder as readonly Method[]) {
    const rows = template.items
      .filter((item) => item.method === method)
      .map((item) => ({ item, result: resultByKey.get(item.key) ?? null }));
    if (rows.length === 0) continue;
    sections.push({ method, rows, answered: rows.filter((row) => row.result !== null).length });
  }
  return sections;
}

/**
 * The records no later record supersedes, in recorded order. Corrections are new records that
 * name the one they replace (see visit.rs); the detail screen shows only what is in force.
 */
export function currentRecords<T extends { id: string; supersedes: string | null }>(records: readonly T[]): T[] {
  const replaced = new Set(records.map((record) => record.supersedes).filter((id) => id !== null));
  return records.filter((record) => !replaced.has(record.id));
}
