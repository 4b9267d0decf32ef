// Where each record of a visit stands between this device and the server. The backend lists
// only the records not yet confirmed (`record_states`); everything else is confirmed.

import type { RecordState } from '$lib/bindings/RecordState';
import type { RecordSync } from '$lib/bindings/RecordSync';

/** The entity names the backend uses in `record_states` and conflicts. */
export type VisitEntity =
  | 'inspection_result'
  | 'fault_record'
  | 'part_usage'
  | 'photo'
  | 'note'
  | 'sign_off'
  | 'corrective_request'
  | 'work_order';

export const visitEntities = [
  'inspection_result',
  'fault_record',
  'part_usage',
  'photo',
  'note',
  'sign_off',
  'corrective_request',
  'work_order',
] as const satisfies readonly VisitEntity[];

export function isVisitEntity(entity: string): entity is VisitEntity {
  return (visitEntities as readonly string[]).includes(entity);
}

/** The state of one record: its listed state, or confirmed when it is not listed. */
export function recordState(states: readonly RecordSync[], entity: VisitEntity, id: string): RecordState {
  return states.find((state) => state.entity === entity && state.entity_id === id)?.state ?? 'confirmed';
}

/** How many of `ids` stand in each state, for a summary line. */
export function stateCounts(
  states: readonly RecordSync[],
  entity: VisitEntity,
  ids: readonly string[],
): Record<RecordState, number> {
  const counts: Record<RecordState, number> = { local_only: 0, sent: 0, confirmed: 0, conflicted: 0 };
  for (const id of ids) counts[recordState(states, entity, id)] += 1;
  return counts;
}
