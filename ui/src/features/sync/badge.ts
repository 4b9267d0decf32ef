// What the sync badge shows, decided apart from the markup.

import type { SyncState } from '$lib/bindings/SyncState';

/**
 * The state to show. The browser's `offline` event is believed at once: a device whose
 * network just dropped reads "offline" before the backend's next attempt finds out. Without a
 * server (`not_enrolled`) or with a state that asks the user to act, the backend's state stands.
 */
export function displayState(state: SyncState, browserOffline: boolean): SyncState {
  if (browserOffline && (state === 'online' || state === 'syncing')) return 'offline';
  return state;
}

/** Whether the badge shows a short visible line about a problem (not only in its tooltip). */
export function showsProblem(state: SyncState, lastError: string | null): boolean {
  return state === 'offline' || state === 'outdated' || state === 'signed_out' || (lastError !== null && state !== 'syncing');
}

/**
 * The problem line's content, when `showsProblem`: offline shows the reassuring hint in the
 * user's language (the network error is technical and in English; it stays in the tooltip and
 * on the sync screen); another failure shows the backend's message; else nothing.
 */
export function problemLine(state: SyncState, lastError: string | null): { hint: true } | { error: string } | null {
  if (state === 'offline') return { hint: true };
  if (lastError !== null) return { error: lastError };
  return null;
}
