// First run: a device without a server opens on the sign-in screen, once, unless it already
// holds work (the offline demo, or data loaded by a tool) or the user chose the demo.

import type { SyncState } from '$lib/bindings/SyncState';
import type { Route } from '$lib/route';

export interface FirstRunFacts {
  state: SyncState;
  route: Route['name'];
  /** The device holds work orders (the demo, or data loaded by a tool). */
  hasLocalWork: boolean;
  /** The user chose the offline demo in this session. */
  demoChosen: boolean;
  /** The sign-in screen was already opened this way in this session. */
  alreadyRedirected: boolean;
}

/** Whether to open the sign-in screen at start. */
export function shouldOpenEnroll(facts: FirstRunFacts): boolean {
  return (
    facts.state === 'not_enrolled' &&
    facts.route === 'list' &&
    !facts.hasLocalWork &&
    !facts.demoChosen &&
    !facts.alreadyRedirected
  );
}

/**
 * Whether to leave a sign-in screen the app opened by itself, because the device got signed
 * in another way meanwhile (e.g. by the launcher's environment). A sign-in screen the user
 * opened stays.
 */
export function shouldLeaveEnroll(autoRedirected: boolean, route: Route['name'], state: SyncState | null): boolean {
  return autoRedirected && route === 'enroll' && state !== null && state !== 'not_enrolled';
}

/** Whether signing out means anything: a server sign-in, or local work (the demo). */
export function canSignOut(state: SyncState | null, hasLocalWork: boolean): boolean {
  if (state === null) return false;
  return state !== 'not_enrolled' || hasLocalWork;
}

/**
 * Whether "sync, then sign out" can help: only with a server the device may still reach. With
 * none (the offline demo), or one that no longer takes this device (signed out, outdated),
 * nothing can be sent first.
 */
export function canSyncBeforeSignOut(state: SyncState | null): boolean {
  return state === 'online' || state === 'offline' || state === 'syncing';
}
