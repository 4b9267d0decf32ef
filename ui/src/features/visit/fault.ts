// The fault-record form (故障处理记录) as plain data: what it holds while typed, the draft it
// sends, and what it must have before it is worth sending.

import type { FaultDraft } from '$lib/bindings/FaultDraft';
import type { FaultRecord } from '$lib/bindings/FaultRecord';
import { isoToLocalInput, localInputToIso } from './datetime';

export interface FaultForm {
  symptom: string;
  cause: string;
  action: string;
  result: string;
  category: string;
  /** datetime-local values in the device's zone, "" when not given. */
  startedAt: string;
  endedAt: string;
  loanerProvidedAt: string;
  /** The record this form corrects; null for a new record. */
  supersedes: string | null;
}

export function emptyFaultForm(): FaultForm {
  return {
    symptom: '',
    cause: '',
    action: '',
    result: '',
    category: '',
    startedAt: '',
    endedAt: '',
    loanerProvidedAt: '',
    supersedes: null,
  };
}

/** The form filled from a record, to correct it (saving creates a record that supersedes it). */
export function faultFormFrom(record: FaultRecord): FaultForm {
  return {
    symptom: record.symptom,
    cause: record.cause,
    action: record.action,
    result: record.result,
    category: record.category,
    startedAt: isoToLocalInput(record.started_at),
    endedAt: isoToLocalInput(record.ended_at),
    loanerProvidedAt: isoToLocalInput(record.loaner_provided_at),
    supersedes: record.id,
  };
}

export function faultDraft(form: FaultForm): FaultDraft {
  return {
    symptom: form.symptom.trim(),
    cause: form.cause.trim(),
    action: form.action.trim(),
    result: form.result.trim(),
    category: form.category.trim(),
    started_at: localInputToIso(form.startedAt),
    ended_at: localInputToIso(form.endedAt),
    loaner_provided_at: localInputToIso(form.loanerProvidedAt),
    supersedes: form.supersedes,
  };
}

/** What the form lacks, in the order the fields appear (the backend checks the same). */
export type FaultProblem = 'symptom_required' | 'action_required' | 'end_before_start';

export function faultProblems(form: FaultForm): FaultProblem[] {
  const problems: FaultProblem[] = [];
  if (form.symptom.trim() === '') problems.push('symptom_required');
  if (form.action.trim() === '') problems.push('action_required');
  const start = localInputToIso(form.startedAt);
  const end = localInputToIso(form.endedAt);
  if (start !== null && end !== null && Date.parse(end) < Date.parse(start)) problems.push('end_before_start');
  return problems;
}
