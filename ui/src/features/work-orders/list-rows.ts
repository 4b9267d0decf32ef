// The flat row model the virtualized list renders: a header row per status group followed by
// that group's work orders, in the order field technicians work through them.

import type { WorkOrderKind } from '$lib/bindings/WorkOrderKind';
import type { WorkOrderStatus } from '$lib/bindings/WorkOrderStatus';
import type { WorkOrderSummary } from '$lib/bindings/WorkOrderSummary';

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

export type ListRow =
  | { type: 'group'; status: WorkOrderStatus; count: number }
  | { type: 'order'; order: WorkOrderSummary };

/**
 * Groups `items` by status in `statusOrder`, keeping the backend's order (nearest deadline
 * first) inside each group. Empty groups get no header.
 */
export function groupRows(items: readonly WorkOrderSummary[]): ListRow[] {
  const byStatus = new Map<WorkOrderStatus, WorkOrderSummary[]>();
  for (const item of items) {
    const group = byStatus.get(item.status);
    if (group) group.push(item);
    else byStatus.set(item.status, [item]);
  }
  const rows: ListRow[] = [];
  for (const status of statusOrder as readonly WorkOrderStatus[]) {
    const group = byStatus.get(status);
    if (!group) continue;
    rows.push({ type: 'group', status, count: group.length });
    for (const order of group) rows.push({ type: 'order', order });
  }
  return rows;
}

/** The list's views, from everything to what is finished; `all` shows every row. */
export const listViews = ['all', 'today', 'upcoming', 'done'] as const;
export type ListView = (typeof listViews)[number];
/** The view a single work order falls in (`all` holds every one). */
export type DayView = Exclude<ListView, 'all'>;

const closedStatuses: ReadonlySet<WorkOrderStatus> = new Set(['completed', 'approved', 'cancelled']);
const underwayStatuses: ReadonlySet<WorkOrderStatus> = new Set(['en_route', 'on_site']);

/** The first instant of the day after `now`'s day, in the device's local time zone. */
export function endOfLocalDay(now: number | Date): number {
  const day = new Date(now);
  return new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1).getTime();
}

/**
 * Where a work order belongs on the day that ends at `endOfToday` (see `endOfLocalDay`).
 * Done: completed, approved or cancelled. Today: an open order that is under way (en route,
 * on site), or whose nearest deadline or appointment falls before the end of today, overdue
 * and missed ones included. Upcoming: every other open order.
 */
export function dayView(order: WorkOrderSummary, endOfToday: number): DayView {
  if (closedStatuses.has(order.status)) return 'done';
  if (underwayStatuses.has(order.status)) return 'today';
  // NaN (no deadline, no appointment) compares false, so such an order is upcoming.
  if (order.next_due && Date.parse(order.next_due.due) < endOfToday) return 'today';
  if (order.scheduled_for !== null && Date.parse(order.scheduled_for) < endOfToday) return 'today';
  return 'upcoming';
}

/** The orders of `items` in `view` on the day that ends at `endOfToday`, in their given order. */
export function inView(items: readonly WorkOrderSummary[], view: ListView, endOfToday: number): readonly WorkOrderSummary[] {
  if (view === 'all') return items;
  return items.filter((order) => dayView(order, endOfToday) === view);
}

/** Adds `value` to the set if absent, removes it if present; returns a new array. */
export function toggled<T>(values: readonly T[], value: T): T[] {
  return values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
}
