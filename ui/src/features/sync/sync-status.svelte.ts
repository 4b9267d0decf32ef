// The device's sync status, shared by the header and the sync screen: one listener to the
// backend's `sync-status` event, a slow poll in case an event is missed, and the browser's
// own `online` / `offline` events, so the badge turns "offline" at once and sync starts as
// soon as the network returns.

import {
  networkOnline,
  onStoreChanged,
  onSyncStatus,
  syncNow,
  syncStatus,
  toBackendError,
  type BackendError,
} from '$lib/backend';
import type { SyncStatus } from '$lib/bindings/SyncStatus';

/** The fallback poll; the `sync-status` event is what normally updates the status. */
export const POLL_MS = 30_000;

const shared = $state<{
  status: SyncStatus | null;
  /** Why the status could not be read (e.g. no backend), if it could not. */
  error: BackendError | null;
  /** The browser reported the network gone (`navigator.onLine` false). */
  browserOffline: boolean;
  /** A "sync now" started here is running. */
  running: boolean;
}>({
  status: null,
  error: null,
  // Only the `offline` event sets this: `navigator.onLine` at start is unreliable in some
  // webviews (false on machines without a default route, though the server is reachable).
  browserOffline: false,
  running: false,
});

/** The shared sync state (read it in components; it is reactive). */
export function syncShared(): Readonly<typeof shared> {
  return shared;
}

// Bumped by every status that arrives; a read started before a newer status arrived is dropped.
let generation = 0;

/** Takes a status the backend sent or returned as the newest one. */
export function applyStatus(status: SyncStatus): void {
  generation++;
  take(status);
}

function take(status: SyncStatus): void {
  // A sync that succeeded since proves the network is back, whatever the browser said.
  if (status.last_success !== null && status.last_success !== shared.status?.last_success) {
    shared.browserOffline = false;
  }
  shared.status = status;
  shared.error = null;
}

/** Reads the status now. */
export async function refreshStatus(): Promise<SyncStatus | null> {
  const started = ++generation;
  try {
    const status = await syncStatus();
    if (started === generation) take(status);
    return status;
  } catch (thrown) {
    if (started === generation) shared.error = toBackendError(thrown);
    return null;
  }
}

/**
 * Syncs now. A failed sync is kept in the status in plain words (`last_error`), so the status
 * is re-read rather than the error thrown; resolves to the status after the attempt.
 */
export async function runSyncNow(): Promise<SyncStatus | null> {
  shared.running = true;
  try {
    const status = await syncNow();
    applyStatus(status);
    return status;
  } catch {
    return await refreshStatus();
  } finally {
    shared.running = false;
  }
}

let watchers = 0;
let stop: (() => void) | null = null;

function start(): () => void {
  void refreshStatus();
  const timer = setInterval(() => void refreshStatus(), POLL_MS);
  const stopStatus = onSyncStatus(applyStatus);
  // A local write changes what waits to be sent before any sync runs.
  const stopStore = onStoreChanged(() => void refreshStatus());

  const wentOnline = () => {
    shared.browserOffline = false;
    networkOnline()
      .catch(() => undefined)
      .finally(() => void refreshStatus());
  };
  const wentOffline = () => {
    shared.browserOffline = true;
  };
  window.addEventListener('online', wentOnline);
  window.addEventListener('offline', wentOffline);

  return () => {
    clearInterval(timer);
    void stopStatus.then((unlisten) => unlisten());
    void stopStore.then((unlisten) => unlisten());
    window.removeEventListener('online', wentOnline);
    window.removeEventListener('offline', wentOffline);
  };
}

/**
 * Keeps the shared status current while at least one caller watches; returns the function
 * that stops this caller's watch.
 */
export function watchSyncStatus(): () => void {
  watchers++;
  if (watchers === 1) stop = start();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    watchers--;
    if (watchers === 0) {
      stop?.();
      stop = null;
    }
  };
}
