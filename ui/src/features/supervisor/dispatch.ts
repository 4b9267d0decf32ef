// Which of a supervisor's steps a work order's status allows, as the domain's state machine
// (`WorkOrderStatus::apply` in crates/fieldbook-domain/src/work_order.rs) decides them: the
// panel offers only steps that can succeed. If that rule changes, change this with it.

import type { WorkOrderStatus } from '$lib/bindings/WorkOrderStatus';

/** New or assigned work can be (re)assigned; once the technician sets off it cannot. */
export function assignable(status: WorkOrderStatus): boolean {
  return status === 'new' || status === 'assigned';
}

/** Open work can be rescheduled, have its level changed, or be cancelled. */
export function isOpen(status: WorkOrderStatus): boolean {
  return ['new', 'assigned', 'en_route', 'on_site', 'returned'].includes(status);
}

/** A signed, completed visit waits for approval or return. */
export function reviewable(status: WorkOrderStatus): boolean {
  return status === 'completed';
}

/** An RFC 3339 instant as a `datetime-local` input's value in the device's time zone. */
export function localInputValue(rfc3339: string | null): string {
  if (!rfc3339) return '';
  const at = new Date(rfc3339);
  if (Number.isNaN(at.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}
