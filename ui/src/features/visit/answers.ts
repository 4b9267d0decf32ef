// Answering checklist items on the visit: the answer in force, readings typed as text, and how a
// reading stands against its item's limits before the backend has judged it.

import type { Answer } from '$lib/bindings/Answer';
import type { CheckOutcome } from '$lib/bindings/CheckOutcome';
import type { InspectionResult } from '$lib/bindings/InspectionResult';
import type { ItemKind } from '$lib/bindings/ItemKind';
import type { Photo } from '$lib/bindings/Photo';

/** The answer in force for `key`, from the detail's `current_results`. */
export function currentResultFor(currentResults: readonly InspectionResult[], key: string): InspectionResult | null {
  return currentResults.find((result) => result.item_key === key) ?? null;
}

export type ParsedReading = { kind: 'empty' } | { kind: 'invalid' } | { kind: 'value'; value: number };

/**
 * A reading as typed: digits with an optional sign and one decimal separator (a point, or the
 * comma some keyboards offer). Anything else is invalid rather than silently dropped.
 */
export function parseReading(text: string): ParsedReading {
  const trimmed = text.trim().replace(/\s+/g, '');
  if (trimmed === '') return { kind: 'empty' };
  if (!/^[-+−]?(\d+([.,]\d*)?|[.,]\d+)$/.test(trimmed)) return { kind: 'invalid' };
  const value = Number(trimmed.replace('−', '-').replace(',', '.'));
  return Number.isFinite(value) ? { kind: 'value', value } : { kind: 'invalid' };
}

/** Which limit a reading breaks, if any (the rule of `ChecklistTemplate::assess`). */
export type ReadingFlag = 'below' | 'above' | null;

export function readingFlag(kind: ItemKind, value: number): ReadingFlag {
  if (kind.type !== 'reading') return null;
  if (kind.min !== null && value < kind.min) return 'below';
  if (kind.max !== null && value > kind.max) return 'above';
  return null;
}

/** The text a reading input shows for a saved answer. */
export function readingText(result: InspectionResult | null): string {
  return result?.answer.type === 'reading' ? String(result.answer.value) : '';
}

/** The text of a saved text answer. */
export function textAnswer(result: InspectionResult | null): string {
  return result?.answer.type === 'text' ? result.answer.value : '';
}

/** The outcome of a saved check answer, if that is what it is. */
export function checkOutcome(result: InspectionResult | null): CheckOutcome | null {
  return result?.answer.type === 'check' ? result.answer.value : null;
}

/** Whether saving `answer` with `note` would change what is in force (a repeated tap does not). */
export function answerChanges(result: InspectionResult | null, answer: Answer, note: string): boolean {
  if (!result) return true;
  return JSON.stringify(result.answer) !== JSON.stringify(answer) || result.note !== note;
}

/** The photos attached to one item, oldest first as the backend lists them. */
export function photosOfItem(photos: readonly Photo[], key: string): Photo[] {
  return photos.filter((photo) => photo.item_key === key);
}

/** The image types the photo picker offers and the drop zone takes. */
export const acceptedImageTypes = ['image/jpeg', 'image/png', 'image/webp'] as const;

export function isAcceptedImage(type: string): boolean {
  return (acceptedImageTypes as readonly string[]).includes(type);
}

/** The image type of stored bytes from their signature, so an object URL gets the right type. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const starts = (...prefix: number[]) => prefix.every((byte, i) => bytes[i] === byte);
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) {
    return 'image/webp';
  }
  return undefined;
}
