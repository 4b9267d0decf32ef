import { describe, expect, it } from 'vitest';
import type { RecordSync } from '$lib/bindings/RecordSync';
import { isVisitEntity, recordState, stateCounts } from './sync-state';

const states: RecordSync[] = [
  { entity: 'inspection_result', entity_id: 'r1', state: 'local_only' },
  { entity: 'inspection_result', entity_id: 'r2', state: 'sent' },
  { entity: 'fault_record', entity_id: 'r1', state: 'conflicted' },
];

describe('recordState', () => {
  it('is the listed state of that entity and id', () => {
    expect(recordState(states, 'inspection_result', 'r1')).toBe('local_only');
    expect(recordState(states, 'fault_record', 'r1')).toBe('conflicted');
  });

  it('is confirmed for a record not listed', () => {
    expect(recordState(states, 'inspection_result', 'r9')).toBe('confirmed');
    expect(recordState([], 'photo', 'abc')).toBe('confirmed');
  });

  it('counts the records in each state', () => {
    expect(stateCounts(states, 'inspection_result', ['r1', 'r2', 'r3'])).toEqual({
      local_only: 1,
      sent: 1,
      confirmed: 1,
      conflicted: 0,
    });
  });

  it('knows the entities of a visit', () => {
    expect(isVisitEntity('part_usage')).toBe(true);
    expect(isVisitEntity('corrective_request')).toBe(true);
    expect(isVisitEntity('customer')).toBe(false);
  });
});
