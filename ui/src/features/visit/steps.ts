// Where a visit stands: the step bar's states and the status steps a technician may take, all
// derived from the work order's status and what is recorded. The state machine itself lives in
// crates/fieldbook-domain/src/work_order.rs (`WorkOrderStatus::apply`, `StatusAction::
// allowed_for`, `accepts_visit_records`); the functions here mirror it so that the screen only
// offers what the backend will accept. If those rules change, change these and their tests.

import type { Missing } from '$lib/bindings/Missing';
import type { StatusAction } from '$lib/bindings/StatusAction';
import type { WorkOrderDetail } from '$lib/bindings/WorkOrderDetail';
import type { WorkOrderStatus } from '$lib/bindings/WorkOrderStatus';
import { currentRecords } from '../work-orders/checklist';

export const visitSteps = ['en_route', 'arrived', 'inspection', 'fault', 'parts', 'sign_off', 'completed'] as const;

export type VisitStep = (typeof visitSteps)[number];

/**
 * `done`: recorded; `current`: the first step still to do; `todo`: later; `optional`: nothing
 * recorded and nothing requires it (parts, and the fault record of a visit that is not a repair).
 */
export type StepState = 'done' | 'current' | 'todo' | 'optional';

export interface StepView {
  step: VisitStep;
  state: StepState;
}

/** The facts of a visit the step bar is derived from. */
export interface StepFacts {
  status: WorkOrderStatus;
  missing: readonly Missing[];
  /** A repair needs its fault record; other kinds may have one. */
  faultRequired: boolean;
  faultCount: number;
  partCount: number;
  signed: boolean;
}

export function stepFacts(detail: WorkOrderDetail): StepFacts {
  return {
    status: detail.summary.status,
    missing: detail.missing,
    faultRequired: detail.summary.kind === 'repair',
    faultCount: currentRecords(detail.faults).length,
    partCount: currentRecords(detail.parts).length,
    signed: detail.sign_off !== null,
  };
}

const setOff: readonly WorkOrderStatus[] = ['en_route', 'on_site', 'completed', 'approved', 'returned'];
const arrived: readonly WorkOrderStatus[] = ['on_site', 'completed', 'approved', 'returned'];
const finished: readonly WorkOrderStatus[] = ['completed', 'approved'];

function isInspectionGap(missing: Missing): boolean {
  return missing.type === 'required_item' || missing.type === 'photo_for_item';
}

/** Each step's state, in order; at most one is `current` (none once completed or cancelled). */
export function stepStates(facts: StepFacts): StepView[] {
  const done: Record<VisitStep, boolean> = {
    en_route: setOff.includes(facts.status),
    arrived: arrived.includes(facts.status),
    // The backend lists what is missing only while the visit takes records (en route, on site);
    // before the technician sets off the list is empty, which does not mean inspected.
    inspection: setOff.includes(facts.status) && !facts.missing.some(isInspectionGap),
    fault: facts.faultCount > 0,
    parts: facts.partCount > 0,
    sign_off: facts.signed,
    completed: finished.includes(facts.status),
  };
  const optional: Record<VisitStep, boolean> = {
    en_route: false,
    arrived: false,
    inspection: false,
    fault: !facts.faultRequired,
    parts: true,
    sign_off: false,
    completed: false,
  };
  let currentFound = facts.status === 'cancelled';
  return visitSteps.map((step) => {
    if (done[step]) return { step, state: 'done' };
    if (optional[step]) return { step, state: 'optional' };
    if (!currentFound) {
      currentFound = true;
      return { step, state: 'current' };
    }
    return { step, state: 'todo' };
  });
}

/**
 * The status steps a technician may take from `status` on the device (completion goes through
 * the customer's sign-off, not a button). Mirrors `WorkOrderStatus::apply` restricted to
 * `StatusAction::allowed_for(Technician)`.
 */
export function technicianActions(status: WorkOrderStatus): StatusAction[] {
  switch (status) {
    case 'assigned':
      return ['set_off'];
    case 'en_route':
      return ['arrive', 'turn_back'];
    case 'returned':
      return ['reopen'];
    case 'new':
    case 'on_site':
    case 'completed':
    case 'approved':
    case 'cancelled':
      return [];
  }
}

/** Whether the backend takes answers, faults, parts and photos (`accepts_visit_records`). */
export function acceptsVisitRecords(status: WorkOrderStatus): boolean {
  return status === 'en_route' || status === 'on_site';
}

/** Whether anything can still be recorded on this visit: open for records and not signed. */
export function canRecord(detail: Pick<WorkOrderDetail, 'summary' | 'sign_off'>): boolean {
  return acceptsVisitRecords(detail.summary.status) && detail.sign_off === null;
}

/**
 * Whether the visit screen is worth opening from the detail screen: a visit that can be
 * started, continued or reopened by the technician.
 */
export function visitOpenable(status: WorkOrderStatus): boolean {
  return status === 'assigned' || status === 'returned' || acceptsVisitRecords(status);
}

/**
 * Whether `missing` says anything: the backend computes it only while the visit takes records
 * (en route or on site), and sends it empty otherwise, when "nothing missing" would be untrue
 * of a visit not yet started and meaningless of one that is finished.
 */
export function missingKnown(status: WorkOrderStatus): boolean {
  return acceptsVisitRecords(status);
}

/** Completion blockers other than the sign-off itself; sign-off waits until there are none. */
export function signOffBlockers(missing: readonly Missing[]): Missing[] {
  return missing.filter((entry) => entry.type !== 'sign_off');
}

/** The element a "missing" entry jumps to, and the control inside it that takes focus. */
export interface MissingTarget {
  anchorId: string;
  /** A selector inside the anchor; null focuses the first control there. */
  focus: string | null;
}

export function itemAnchorId(key: string): string {
  return `visit-item-${key}`;
}

export const faultAnchorId = 'visit-fault';
export const signOffAnchorId = 'visit-sign-off';

export function missingTarget(missing: Missing): MissingTarget {
  switch (missing.type) {
    case 'required_item':
      return { anchorId: itemAnchorId(missing.key), focus: null };
    case 'photo_for_item':
      return { anchorId: itemAnchorId(missing.key), focus: '[data-testid="photo-input"]' };
    case 'fault_record':
      return { anchorId: faultAnchorId, focus: '[data-testid="fault-symptom"]' };
    case 'sign_off':
      return { anchorId: signOffAnchorId, focus: '[data-testid="signer-name"]' };
  }
}

/** When the technician arrived (the `arrive` deadline's completion), if they have. */
export function arrivedAt(detail: Pick<WorkOrderDetail, 'deadlines'>): string | null {
  return detail.deadlines.find((row) => row.kind === 'arrive')?.done_at ?? null;
}

/** When the technician set off (the `respond` deadline's completion), if they have. */
export function setOffAt(detail: Pick<WorkOrderDetail, 'deadlines'>): string | null {
  return detail.deadlines.find((row) => row.kind === 'respond')?.done_at ?? null;
}
