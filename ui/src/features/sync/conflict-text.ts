// A refused change (a conflict) in words: what the change was, its values as labelled facts,
// and a heading for the server's refusal code. Internal ids and stamps are left out, and so is
// the time it was recorded (the card shows it once); the raw value stays available to a
// "details" disclosure for support.

import type { Answer } from '$lib/bindings/Answer';
import type { ChecklistTemplate } from '$lib/bindings/ChecklistTemplate';
import type { ConflictView } from '$lib/bindings/ConflictView';
import type { Locale } from '$lib/bindings/Locale';
import type { PartBilling } from '$lib/bindings/PartBilling';
import { formatDateTime, formatMoneyCents, formatNumber, pickBilingual, translate, type ZoneOption } from '$lib/i18n/format';
import type { MessageArgs, MessageKey } from '$lib/i18n/messages';
import { describeAnswer, itemLabel } from '../work-orders/checklist-text';
import { describeChange, statusActionOf } from './changes';

/** One labelled value of the change, in words. */
export interface ConflictFact {
  label: string;
  value: string;
}

export interface ConflictDescription {
  /** What the change was, e.g. "Answer to 'Fan noise': Normal". */
  summary: string;
  /** The refusal code as a heading, e.g. "No longer your work order". */
  heading: string;
  /** The change's values, labelled. */
  facts: ConflictFact[];
}

/** The refusal codes the server gives a heading for; any other reads as "refused". */
export const conflictCodes = [
  'forbidden',
  'visit_locked',
  'rule_violation',
  'invalid_input',
  'not_found',
  'conflict',
  'id_taken',
  'mutation_mismatch',
] as const;

/** Longest text shown in a one-line summary; the facts keep it whole. */
export const SUMMARY_LIMIT = 80;

/** The messages that take no parameters. */
type PlainKey = { [K in MessageKey]: MessageArgs<K> extends [] ? K : never }[MessageKey];

type Conflict = Pick<ConflictView, 'entity' | 'code' | 'local_value'>;
type Fields = Record<string, unknown>;

function fieldsOf(value: unknown): Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function short(value: string): string {
  const line = value.replace(/\s+/g, ' ').trim();
  return line.length > SUMMARY_LIMIT ? `${line.slice(0, SUMMARY_LIMIT - 1)}…` : line;
}

/** The refusal code as a heading in `locale`. */
export function conflictHeading(locale: Locale, code: string): string {
  const known = (conflictCodes as readonly string[]).includes(code);
  const key: PlainKey = known ? `conflict.code.${code as (typeof conflictCodes)[number]}` : 'conflict.code.other';
  return translate(locale, key);
}

const outcomes = ['normal', 'abnormal', 'not_applicable'] as const;

function outcomeText(locale: Locale, value: unknown): string | null {
  return typeof value === 'string' && (outcomes as readonly string[]).includes(value)
    ? translate(locale, `answer.${value as (typeof outcomes)[number]}`)
    : null;
}

/** `value` as an answer, when it is one. */
function asAnswer(value: unknown): Answer | null {
  const fields = fieldsOf(value);
  switch (fields.type) {
    case 'check':
      return typeof fields.value === 'string' && (outcomes as readonly string[]).includes(fields.value) ? (fields as Answer) : null;
    case 'reading':
      return typeof fields.value === 'number' ? (fields as Answer) : null;
    case 'text':
      return typeof fields.value === 'string' ? (fields as Answer) : null;
    case 'photo_attached':
      return fields as Answer;
    default:
      return null;
  }
}

/** A recorded answer in words, with the reading's unit when the template gives it. */
function answerText(locale: Locale, value: unknown, template: ChecklistTemplate | null | undefined, key: string): string {
  const answer = asAnswer(value);
  const kind = template?.items.find((item) => item.key === key)?.kind;
  const shown = answer ? describeAnswer(answer, kind, locale).trim() : '';
  return shown || translate(locale, 'common.not_set');
}

/** `value` as a part's billing, when it is one. */
function asBilling(value: unknown): PartBilling | null {
  const fields = fieldsOf(value);
  if (fields.type === 'warranty' || fields.type === 'contract') return fields as PartBilling;
  if (fields.type === 'paid' && typeof fields.unit_price_cents === 'number') return fields as PartBilling;
  return null;
}

/**
 * The billing in words, as `billingLabel` (visit-text) words it but in `locale`: that helper
 * speaks only the UI's current language.
 */
function billingText(locale: Locale, value: unknown): string | null {
  const billing = asBilling(value);
  if (billing === null) return null;
  return billing.type === 'paid'
    ? translate(locale, 'part_billing.paid', { price: formatMoneyCents(locale, billing.unit_price_cents) })
    : translate(locale, `part_billing.${billing.type}`);
}

const levels = ['critical', 'major', 'minor'] as const;

/**
 * `conflict` in words, in `locale`. `template` is the work order's checklist, for item labels
 * and reading units; without it an item shows as its key.
 */
export function describeConflict(
  locale: Locale,
  conflict: Conflict,
  template?: ChecklistTemplate | null,
  zone?: ZoneOption,
): ConflictDescription {
  const tr = (key: PlainKey): string => translate(locale, key);
  const value = fieldsOf(conflict.local_value);
  const facts: ConflictFact[] = [];
  /** Adds a text fact when it has a value. */
  const add = (label: string, shown: string | null | undefined) => {
    if (shown !== null && shown !== undefined && shown.trim() !== '') facts.push({ label, value: shown });
  };
  const when = (label: string, instant: unknown) => {
    if (typeof instant === 'string' && !Number.isNaN(Date.parse(instant))) add(label, formatDateTime(locale, instant, zone));
  };
  /** The summary when the values give one; otherwise `describeChange` words the change. */
  let summary: string | null = null;

  switch (conflict.entity) {
    case 'inspection_result': {
      const key = text(value.item_key);
      const item = itemLabel(template, key, locale);
      const answer = answerText(locale, value.answer, template, key);
      summary = translate(locale, 'conflict.summary.answer', { item, answer: short(answer) });
      add(tr('conflict.field.item'), item);
      add(tr('conflict.field.answer'), answer);
      add(tr('conflict.field.assessment'), outcomeText(locale, value.assessment));
      add(tr('conflict.field.note'), text(value.note));
      break;
    }
    case 'note': {
      const body = text(value.text);
      if (body) summary = translate(locale, 'conflict.summary.note', { text: short(body) });
      add(tr('conflict.field.text'), body);
      break;
    }
    case 'part_usage': {
      const number = text(value.part_number);
      const name = text(value.name);
      const quantity = typeof value.quantity === 'number' ? value.quantity : null;
      if (number || name) {
        summary = translate(locale, 'conflict.summary.part', {
          part: [number, name].filter(Boolean).join(' '),
          quantity: quantity ?? 1,
        });
      }
      add(tr('conflict.field.part_number'), number);
      add(tr('conflict.field.part_name'), name);
      if (quantity !== null) add(tr('conflict.field.quantity'), formatNumber(locale, quantity));
      add(tr('conflict.field.serial'), text(value.serial));
      add(tr('conflict.field.billing'), billingText(locale, value.billing));
      if (typeof value.old_part_returned === 'boolean') {
        add(tr('detail.part_old_returned'), tr(value.old_part_returned ? 'common.yes' : 'common.no'));
      }
      break;
    }
    case 'fault_record': {
      const symptom = text(value.symptom);
      if (symptom) summary = translate(locale, 'conflict.summary.fault', { symptom: short(symptom) });
      add(tr('detail.fault_symptom'), symptom);
      add(tr('detail.fault_cause'), text(value.cause));
      add(tr('detail.fault_action'), text(value.action));
      add(tr('detail.fault_result'), text(value.result));
      add(tr('detail.fault_category'), text(value.category));
      when(tr('conflict.field.started_at'), value.started_at);
      when(tr('conflict.field.ended_at'), value.ended_at);
      when(tr('detail.fault_loaner'), value.loaner_provided_at);
      break;
    }
    case 'photo': {
      const key = text(value.item_key);
      if (key) {
        const item = itemLabel(template, key, locale);
        summary = translate(locale, 'conflict.summary.photo', { item });
        add(tr('conflict.field.item'), item);
      }
      add(tr('conflict.field.caption'), text(value.caption));
      when(tr('conflict.field.taken_at'), value.taken_at);
      break;
    }
    case 'sign_off': {
      const name = text(value.signer_name);
      if (name) summary = translate(locale, 'conflict.summary.sign_off', { name: short(name) });
      add(tr('detail.signer'), name);
      add(tr('detail.opinion'), text(value.opinion));
      if (typeof value.satisfaction === 'number') {
        add(tr('detail.satisfaction'), translate(locale, 'detail.satisfaction_value', { value: value.satisfaction }));
      }
      when(tr('detail.signed_at'), value.signed_at);
      break;
    }
    case 'corrective_request': {
      const symptom = text(value.symptom);
      const level =
        typeof value.fault_level === 'string' && (levels as readonly string[]).includes(value.fault_level)
          ? translate(locale, `level.${value.fault_level as (typeof levels)[number]}.long`)
          : null;
      if (symptom) summary = translate(locale, 'conflict.summary.corrective', { symptom: short(symptom) });
      add(tr('conflict.field.symptom'), symptom);
      add(tr('conflict.field.level'), level);
      const key = text(value.item_key);
      if (key) add(tr('conflict.field.from_item'), itemLabel(template, key, locale));
      break;
    }
    case 'work_order': {
      const action = statusActionOf(conflict.local_value);
      if (action) add(tr('conflict.field.step'), translate(locale, `sync.action.${action}`));
      break;
    }
    default:
      break;
  }

  return {
    summary: summary ?? describeChange(locale, conflict.entity, conflict.local_value),
    heading: conflictHeading(locale, conflict.code),
    facts,
  };
}

/** The work orders whose conflicts name checklist items, so their templates are worth loading. */
export function workOrdersNeedingTemplate(conflicts: readonly Pick<ConflictView, 'local_value' | 'work_order_id'>[]): string[] {
  const ids = new Set<string>();
  for (const conflict of conflicts) {
    if (text(fieldsOf(conflict.local_value).item_key)) ids.add(conflict.work_order_id);
  }
  return [...ids];
}
