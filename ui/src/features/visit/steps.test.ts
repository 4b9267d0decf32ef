import { describe, expect, it } from 'vitest';
import type { WorkOrderStatus } from '$lib/bindings/WorkOrderStatus';
import { summary } from '../work-orders/fixtures';
import { detail, fault, part } from './fixtures';
import {
  acceptsVisitRecords,
  arrivedAt,
  canRecord,
  missingKnown,
  missingTarget,
  signOffBlockers,
  stepFacts,
  stepStates,
  technicianActions,
  visitOpenable,
  type StepFacts,
} from './steps';

const facts = (extra: Partial<StepFacts>): StepFacts => ({
  status: 'on_site',
  missing: [{ type: 'sign_off' }],
  faultRequired: false,
  faultCount: 0,
  partCount: 0,
  signed: false,
  ...extra,
});

const statesOf = (extra: Partial<StepFacts>) => Object.fromEntries(stepStates(facts(extra)).map((s) => [s.step, s.state]));

describe('stepStates', () => {
  it('starts at "en route" before the technician sets off', () => {
    const states = statesOf({ status: 'assigned', missing: [{ type: 'required_item', key: 'a' }, { type: 'sign_off' }] });
    expect(states).toEqual({
      en_route: 'current',
      arrived: 'todo',
      inspection: 'todo',
      fault: 'optional',
      parts: 'optional',
      sign_off: 'todo',
      completed: 'todo',
    });
  });

  it('does not take the empty "missing" list of a visit not yet started for an inspection done', () => {
    // The backend lists what is missing only while the visit takes records.
    for (const status of ['assigned', 'new', 'cancelled'] as const) {
      expect(statesOf({ status, missing: [] }).inspection).not.toBe('done');
    }
    expect(statesOf({ status: 'assigned', missing: [] }).en_route).toBe('current');
  });

  it('moves to arrival once en route, then to the inspection on site', () => {
    const missing = [{ type: 'required_item', key: 'a' } as const, { type: 'sign_off' } as const];
    expect(statesOf({ status: 'en_route', missing }).arrived).toBe('current');
    const onSite = statesOf({ status: 'on_site', missing });
    expect(onSite.arrived).toBe('done');
    expect(onSite.inspection).toBe('current');
  });

  it('asks a repair for its fault record before the sign-off', () => {
    const states = statesOf({ faultRequired: true, missing: [{ type: 'fault_record' }, { type: 'sign_off' }] });
    expect(states.inspection).toBe('done');
    expect(states.fault).toBe('current');
    expect(states.sign_off).toBe('todo');
  });

  it('leaves parts optional and goes to the sign-off when everything else is recorded', () => {
    const states = statesOf({ faultRequired: true, faultCount: 1 });
    expect(states.fault).toBe('done');
    expect(states.parts).toBe('optional');
    expect(states.sign_off).toBe('current');
  });

  it('marks recorded optional steps done', () => {
    expect(statesOf({ partCount: 2 }).parts).toBe('done');
    expect(statesOf({ faultCount: 1 }).fault).toBe('done');
  });

  it('is all done once signed and completed, with no current step', () => {
    const states = stepStates(facts({ status: 'completed', missing: [], signed: true, faultCount: 1, partCount: 1 }));
    expect(states.every((s) => s.state === 'done')).toBe(true);
  });

  it('has no current step when cancelled', () => {
    expect(stepStates(facts({ status: 'cancelled' })).some((s) => s.state === 'current')).toBe(false);
  });

  it('derives its facts from the detail, counting only records in force', () => {
    const d = detail({
      faults: [fault('f1'), fault('f2', { supersedes: 'f1' })],
      parts: [part('p1')],
      summary: summary({ id: 'wo', status: 'en_route', kind: 'patrol' }),
    });
    expect(stepFacts(d)).toMatchObject({ status: 'en_route', faultRequired: false, faultCount: 1, partCount: 1, signed: false });
  });
});

describe('the status steps (work_order.rs)', () => {
  const all: WorkOrderStatus[] = ['new', 'assigned', 'en_route', 'on_site', 'completed', 'approved', 'returned', 'cancelled'];

  it('offers a technician only the transitions the state machine allows', () => {
    expect(Object.fromEntries(all.map((s) => [s, technicianActions(s)]))).toEqual({
      new: [],
      assigned: ['set_off'],
      en_route: ['arrive', 'turn_back'],
      on_site: [],
      completed: [],
      approved: [],
      returned: ['reopen'],
      cancelled: [],
    });
  });

  it('takes records only en route and on site, and not once signed', () => {
    expect(all.filter(acceptsVisitRecords)).toEqual(['en_route', 'on_site']);
    expect(canRecord(detail())).toBe(true);
    const signed = detail({
      sign_off: {
        id: 's',
        work_order_id: 'wo',
        signer_name: '王经理',
        opinion: '',
        satisfaction: 5,
        signature: 'ab',
        signed_at: '2026-11-20T04:00:00Z',
      },
    });
    expect(canRecord(signed)).toBe(false);
  });

  it('opens the visit for work the technician can start, continue or reopen', () => {
    expect(all.filter(visitOpenable)).toEqual(['assigned', 'en_route', 'on_site', 'returned']);
  });

  it('reads the arrival time from the arrive deadline', () => {
    const d = detail({
      deadlines: [
        { kind: 'respond', due: '2026-11-20T03:00:00Z', done_at: '2026-11-20T02:10:00Z', state: { state: 'met' } },
        { kind: 'arrive', due: '2026-11-20T06:00:00Z', done_at: '2026-11-20T03:40:00Z', state: { state: 'met' } },
      ],
    });
    expect(arrivedAt(d)).toBe('2026-11-20T03:40:00Z');
    expect(arrivedAt(detail())).toBeNull();
  });
});

describe('what blocks the sign-off', () => {
  it('is everything missing except the sign-off itself', () => {
    expect(signOffBlockers([{ type: 'sign_off' }])).toEqual([]);
    expect(signOffBlockers([{ type: 'photo_for_item', key: 'a' }, { type: 'sign_off' }])).toEqual([
      { type: 'photo_for_item', key: 'a' },
    ]);
  });

  it('jumps to the item, its photo picker, the fault form or the sign-off form', () => {
    expect(missingTarget({ type: 'required_item', key: 'look.seal' })).toEqual({ anchorId: 'visit-item-look.seal', focus: null });
    expect(missingTarget({ type: 'photo_for_item', key: 'k' }).focus).toBe('[data-testid="photo-input"]');
    expect(missingTarget({ type: 'fault_record' }).anchorId).toBe('visit-fault');
    expect(missingTarget({ type: 'sign_off' }).anchorId).toBe('visit-sign-off');
  });
});

describe('missingKnown', () => {
  it('trusts the missing list only while the visit takes records', () => {
    const known = (['new', 'assigned', 'en_route', 'on_site', 'completed', 'approved', 'returned', 'cancelled'] as const).filter(
      (status: WorkOrderStatus) => missingKnown(status),
    );
    expect(known).toEqual(['en_route', 'on_site']);
  });
});
