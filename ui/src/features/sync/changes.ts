// What kind of change a pending or refused record is, in words.

import type { Locale } from '$lib/bindings/Locale';
import type { StatusAction } from '$lib/bindings/StatusAction';
import { translate } from '$lib/i18n/format';
import { isVisitEntity, type VisitEntity } from '../visit/sync-state';

/** The entities a device records (`RecordSync.entity`); `work_order` is a status step. */
export type ChangeEntity = VisitEntity;

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
  return isVisitEntity(entity);
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
