// A recorded change (the JSON a device sends) as rows a person can read: one row per field,
// scalars as they are, instants recognised, nested values as compact JSON.

export type ValueCell =
  | { kind: 'text'; text: string }
  | { kind: 'instant'; iso: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'empty' }
  | { kind: 'json'; text: string };

export interface ValueRow {
  /** The field's name as recorded; empty when the value is not an object. */
  key: string;
  cell: ValueCell;
}

/** Longest compact JSON shown for one nested value; the rest is cut with an ellipsis. */
export const JSON_LIMIT = 240;

const instantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compactJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > JSON_LIMIT ? `${text.slice(0, JSON_LIMIT - 1)}…` : text;
}

/** One value as a cell. */
export function cellOf(value: unknown): ValueCell {
  if (value === null || value === undefined) return { kind: 'empty' };
  if (typeof value === 'string') {
    if (instantPattern.test(value) && !Number.isNaN(Date.parse(value))) return { kind: 'instant', iso: value };
    return value.trim() === '' ? { kind: 'empty' } : { kind: 'text', text: value };
  }
  if (typeof value === 'number') return Number.isFinite(value) ? { kind: 'number', value } : { kind: 'text', text: String(value) };
  if (typeof value === 'boolean') return { kind: 'boolean', value };
  if (typeof value === 'bigint') return { kind: 'text', text: value.toString() };
  if (Array.isArray(value) && value.length === 0) return { kind: 'empty' };
  return { kind: 'json', text: compactJson(value) };
}

/**
 * The rows of `value`: an object's fields in their recorded order; anything else as one row
 * without a name. An empty object gives no rows.
 */
export function flattenValue(value: unknown): ValueRow[] {
  if (isPlainObject(value)) return Object.entries(value).map(([key, field]) => ({ key, cell: cellOf(field) }));
  if (value === null || value === undefined) return [];
  return [{ key: '', cell: cellOf(value) }];
}
