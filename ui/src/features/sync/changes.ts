// What kind of change a pending or refused record is, in words.

import type { Locale } from '$lib/bindings/Locale';
import type { StatusAction } from '$lib/bindings/StatusAction';
import { translate } from '$lib/i18n/format';

/** The entities a device records (`RecordSync.entity`); `work_order` is a status step. */
export type ChangeEntity =
  | 'inspection_result'
  | 'fault_record'
  | 'part_usage'
  | 'photo'
  | 'note'
  | 'sign_off'
  | 'work_order';

const entities: { readonly [E in ChangeEntity]: true } = {
  inspection_result: true,
  fault_record: true,
  part_usage: true,
  photo: true,
  note: true,
  sign_off: true,
  work_order: true,
};

// Every action, so a new one on the Rust side fails the type check until it has a label.
const actions: { readonly [A in StatusAction]: true } = {
  assign: true,
  set_off: true,
  turn_back: true,
  arrive: true,
  complete: true,
  approve: true,
  return: true,
  reopen: true,
  cancel: true,
};

export function isChangeEntity(entity: string): entity is ChangeEntity {
  return Object.prototype.hasOwnProperty.call(entities, entity);
}

export function isStatusAction(action: unknown): action is StatusAction {
  return typeof action === 'string' && Object.prototype.hasOwnProperty.call(actions, action);
}

/** The status action a status step's recorded value names, if any. */
export function statusActionOf(value: unknown): StatusAction | null {
  if (typeof value !== 'object' || value === null) return null;
  const action = (value as { action?: unknown }).action;
  return isStatusAction(action) ? action : null;
}

/** "Checklist answer", "Status step: Arrive", or "Change (something_new)". */
export function describeChange(locale: Locale, entity: string, value: unknown): string {
  if (!isChangeEntity(entity)) return translate(locale, 'sync.entity.other', { entity });
  if (entity === 'work_order') {
    const action = statusActionOf(value);
    if (action) return translate(locale, 'sync.entity.status_step', { action: translate(locale, `sync.action.${action}`) });
  }
  return translate(locale, `sync.entity.${entity}`);
}
