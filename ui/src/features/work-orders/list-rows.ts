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

/** Adds `value` to the set if absent, removes it if present; returns a new array. */
export function toggled<T>(values: readonly T[], value: T): T[] {
  return values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
}
