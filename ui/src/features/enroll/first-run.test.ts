import { describe, expect, it } from 'vitest';
import { enrollHint, formComplete } from './enroll-errors';
import { canSignOut, canSyncBeforeSignOut, shouldLeaveEnroll, shouldOpenEnroll, type FirstRunFacts } from './first-run';

const fresh: FirstRunFacts = {
  state: 'not_enrolled',
  route: 'list',
  hasLocalWork: false,
  demoChosen: false,
  alreadyRedirected: false,
};

describe('the first-run redirect', () => {
  it('opens the sign-in screen on a fresh device at the list', () => {
    expect(shouldOpenEnroll(fresh)).toBe(true);
  });

  it('does not when the device has a server', () => {
    for (const state of ['syncing', 'online', 'offline', 'outdated', 'signed_out'] as const) {
      expect(shouldOpenEnroll({ ...fresh, state }), state).toBe(false);
    }
  });

  it('does not away from the list, with local work, after the demo, or twice', () => {
    expect(shouldOpenEnroll({ ...fresh, route: 'sync' })).toBe(false);
    expect(shouldOpenEnroll({ ...fresh, route: 'work-order' })).toBe(false);
    expect(shouldOpenEnroll({ ...fresh, hasLocalWork: true })).toBe(false);
    expect(shouldOpenEnroll({ ...fresh, demoChosen: true })).toBe(false);
    expect(shouldOpenEnroll({ ...fresh, alreadyRedirected: true })).toBe(false);
  });

  it('leaves a sign-in screen it opened once the device is signed in elsewhere', () => {
    expect(shouldLeaveEnroll(true, 'enroll', 'syncing')).toBe(true);
    expect(shouldLeaveEnroll(true, 'enroll', 'not_enrolled')).toBe(false);
    expect(shouldLeaveEnroll(true, 'enroll', null)).toBe(false);
    expect(shouldLeaveEnroll(false, 'enroll', 'online')).toBe(false);
    expect(shouldLeaveEnroll(true, 'list', 'online')).toBe(false);
  });
});

describe('sign-out', () => {
  it('is offered when signed in to a server or holding demo work', () => {
    expect(canSignOut('online', false)).toBe(true);
    expect(canSignOut('signed_out', false)).toBe(true);
    expect(canSignOut('not_enrolled', true)).toBe(true);
    expect(canSignOut('not_enrolled', false)).toBe(false);
    expect(canSignOut(null, true)).toBe(false);
  });

  it('offers to sync first only with a server the device can still send to', () => {
    for (const state of ['online', 'offline', 'syncing'] as const) expect(canSyncBeforeSignOut(state), state).toBe(true);
    for (const state of ['not_enrolled', 'signed_out', 'outdated'] as const) expect(canSyncBeforeSignOut(state), state).toBe(false);
    expect(canSyncBeforeSignOut(null)).toBe(false);
  });
});

describe('the sign-in form', () => {
  it('adds a hint for the codes that have one', () => {
    expect(enrollHint('offline')).toBe('enroll.hint.offline');
    expect(enrollHint('not_signed_in')).toBe('enroll.hint.not_signed_in');
    expect(enrollHint('invalid_input')).toBeNull();
    expect(enrollHint('no_backend')).toBeNull();
  });

  it('asks for every field', () => {
    expect(formComplete({ server: 'https://x', username: 'tech1', password: 'pw' })).toBe(true);
    expect(formComplete({ server: ' ', username: 'tech1', password: 'pw' })).toBe(false);
    expect(formComplete({ server: 'https://x', username: '', password: 'pw' })).toBe(false);
    expect(formComplete({ server: 'https://x', username: 'tech1', password: '' })).toBe(false);
  });
});
