// The corrective work order form as plain data: the levels it offers, what it starts with,
// and what it must have before it is worth sending.

import type { Bilingual } from '$lib/bindings/Bilingual';
import type { CorrectiveRequest } from '$lib/bindings/CorrectiveRequest';
import type { FaultLevel } from '$lib/bindings/FaultLevel';
import type { Locale } from '$lib/bindings/Locale';
import { pickBilingual, translate } from '$lib/i18n/format';

/** The levels offered, most urgent first. */
export const correctiveLevels = ['critical', 'major', 'minor'] as const satisfies readonly FaultLevel[];

/**
 * The level a new request starts at: minor. The technician raises it on purpose; taking the
 * visited work order's level could give a routine finding a critical work order's deadlines.
 */
export const defaultCorrectiveLevel: FaultLevel = 'minor';

export interface CorrectiveForm {
  level: FaultLevel;
  symptom: string;
}

/** The symptom a request starts with: the item's label, and the item's note when there is one. */
export function correctiveSymptom(locale: Locale, label: Bilingual, note: string | null | undefined): string {
  const item = pickBilingual(locale, label);
  const trimmed = note?.trim() ?? '';
  return trimmed === '' ? item : translate(locale, 'visit.corrective.symptom_with_note', { item, note: trimmed });
}

export function correctiveForm(locale: Locale, label: Bilingual, note: string | null | undefined): CorrectiveForm {
  return { level: defaultCorrectiveLevel, symptom: correctiveSymptom(locale, label, note) };
}

/** What the form lacks (the backend checks the same). */
export type CorrectiveProblem = 'symptom_required' | 'symptom_too_long';

/** The backend's limit on a symptom, in characters. */
export const symptomMaxChars = 4000;

export function correctiveProblems(form: CorrectiveForm): CorrectiveProblem[] {
  const symptom = form.symptom.trim();
  if (symptom === '') return ['symptom_required'];
  if ([...symptom].length > symptomMaxChars) return ['symptom_too_long'];
  return [];
}

/** The requests made from one checklist item, oldest first (as the backend lists them). */
export function requestsOfItem(requests: readonly CorrectiveRequest[], key: string): CorrectiveRequest[] {
  return requests.filter((request) => request.item_key === key);
}
