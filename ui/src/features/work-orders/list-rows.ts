// The flat row model the virtualized list renders: a header row per status group followed by
// that group's work orders, in the order field technicians work through them.

import type { WorkOrderKind } from '$lib/bindings/WorkOrderKind';
import type { WorkOrderStatus } from '$lib/bindings/WorkOrderStatus';
import type { StatusCount } from '$lib/bindings/StatusCount';

/** Groups from the work in hand to the finished: what needs attention first comes first. */
export const statusOrder = [
  'on_site',
  'en_route',
  'assigned',
  'new',
  'returned',
  'completed',
  'approved',
  'cancelled',
] as const satisfies readonly WorkOrderStatus[];

export const kindOrder = [
  'repair',
  'patrol',
  'maintenance',
  'installation',
  'return_visit',
] as const satisfies readonly WorkOrderKind[];

// A status or kind the Rust side adds must get a place above, or its rows would vanish from
// the list: these fail the type check until it has one.
type Unordered<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
export const everyStatusHasAGroup: Unordered<WorkOrderStatus, (typeof statusOrder)[number]> = true;
export const everyKindHasAChip: Unordered<WorkOrderKind, (typeof kindOrder)[number]> = true;

/**
 * A row of the virtualized list: a status group's header, or the slot of the `index`-th work
 * order of the whole list (in the backend's order), filled once its page has been read.
 */
export type ListRow =
  | { type: 'group'; status: WorkOrderStatus; count: number }
  | { type: 'order'; index: number; status: WorkOrderStatus };

/**
 * The list's rows for the backend's group counts (already in list order): each group's header
 * followed by a slot per work order. Ten thousand slots cost a few small objects each, not the
 * work orders themselves.
 */
export function slotRows(groups: readonly StatusCount[]): ListRow[] {
  const rows: ListRow[] = [];
  let index = 0;
  for (const { status, count } of groups) {
    if (count === 0) continue;
    rows.push({ type: 'group', status, count });
    for (let i = 0; i < count; i++) rows.push({ type: 'order', index: index++, status });
  }
  return rows;
}

/** The numbers of the pages of `pageSize` rows that hold the work orders `first..=last`. */
export function pagesFor(first: number, last: number, pageSize: number): number[] {
  if (last < first || last < 0) return [];
  const pages: number[] = [];
  for (let page = Math.floor(Math.max(first, 0) / pageSize); page <= Math.floor(last / pageSize); page++) pages.push(page);
  return pages;
}

/** The list's views, from everything to what is finished; `all` shows every row. */
export const listViews = ['all', 'today', 'upcoming', 'done'] as const;
export type ListView = (typeof listViews)[number];

/** The first instant of the day after `now`'s day, in the device's local time zone. */
export function endOfLocalDay(now: number | Date): number {
  const day = new Date(now);
  return new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1).getTime();
}

/** Adds `value` to the set if absent, removes it if present; returns a new array. */
export function toggled<T>(values: readonly T[], value: T): T[] {
  return values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
}
