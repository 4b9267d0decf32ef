// The one module that talks to the Rust backend. Architecture invariant: nothing else under
// ui/src imports `@tauri-apps/*`; screens call the functions below, so the command names and
// their argument shapes are written down in exactly one place.

import { invoke, isTauri } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { AppError } from '$lib/bindings/AppError';
import type { ErrorCode } from '$lib/bindings/ErrorCode';
import type { Locale } from '$lib/bindings/Locale';
import type { Settings } from '$lib/bindings/Settings';
import type { StoreChanged } from '$lib/bindings/StoreChanged';
import type { SyncStatus } from '$lib/bindings/SyncStatus';
import type { WorkOrderDetail } from '$lib/bindings/WorkOrderDetail';
import type { WorkOrderList } from '$lib/bindings/WorkOrderList';
import type { WorkOrderQuery } from '$lib/bindings/WorkOrderQuery';

/**
 * Codes the UI makes itself: `no_backend` (the page is not running inside the Tauri shell) and
 * `unexpected` (a call failed without the backend's `{code, message}`, e.g. an unknown command).
 */
export type UiErrorCode = 'no_backend' | 'unexpected';

export type BackendErrorCode = ErrorCode | UiErrorCode;

/**
 * A refusal or failure from the backend, which sends an `AppError` (`{code, message}`) for
 * every error. The UI branches on `code` and shows `message`; it never reads meaning out of
 * the message text.
 */
export class BackendError extends Error {
  readonly code: BackendErrorCode;

  constructor(code: BackendErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

export type Unlisten = UnlistenFn;

function isAppError(value: unknown): value is AppError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Whatever a failed call threw, as a `BackendError`. */
export function toBackendError(thrown: unknown): BackendError {
  if (thrown instanceof BackendError) return thrown;
  if (isAppError(thrown)) return new BackendError(thrown.code, thrown.message);
  if (thrown instanceof Error) return new BackendError('unexpected', thrown.message);
  return new BackendError('unexpected', String(thrown));
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  if (!isTauri()) throw new BackendError('no_backend', 'not running inside the Fieldbook app');
  try {
    return await invoke<T>(command, args);
  } catch (thrown) {
    throw toBackendError(thrown);
  }
}

/** Work orders matching `query`, nearest deadline first, with the instant the states were computed. */
export function listWorkOrders(query: WorkOrderQuery): Promise<WorkOrderList> {
  return call<WorkOrderList>('list_work_orders', { query });
}

/** Everything the detail screen shows of one work order. */
export function workOrderDetail(id: string): Promise<WorkOrderDetail> {
  return call<WorkOrderDetail>('work_order_detail', { id });
}

/** Where sync stands: online or not, what waits to be sent, the last success and error. */
export function syncStatus(): Promise<SyncStatus> {
  return call<SyncStatus>('sync_status');
}

/** Syncs now and returns the new status (a failure is also kept in the status). */
export function syncNow(): Promise<SyncStatus> {
  return call<SyncStatus>('sync_now');
}

/** Signs this device in to a Fieldbook server. */
export function enroll(server: string, username: string, password: string): Promise<SyncStatus> {
  return call<SyncStatus>('enroll', { server, username, password });
}

export function getSettings(): Promise<Settings> {
  return call<Settings>('get_settings');
}

/** Persists the UI language and returns the settings as now stored. */
export function setLocale(locale: Locale): Promise<Settings> {
  return call<Settings>('set_locale', { locale });
}

/**
 * Calls `onChange` whenever the backend's store changes (a local write or a background sync),
 * so screens refresh without a manual reload. `work_order_id` names the work order touched,
 * or is null when the change may touch any. Resolves to the function that stops listening.
 */
export async function onStoreChanged(onChange: (change: StoreChanged) => void): Promise<Unlisten> {
  if (!isTauri()) return () => {};
  return listen<StoreChanged>('store-changed', (event) => onChange(event.payload));
}
