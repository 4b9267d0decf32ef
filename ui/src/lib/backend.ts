// The one module that talks to the Rust backend. Architecture invariant: nothing else under
// ui/src imports `@tauri-apps/*`; screens call the functions below, so the command names and
// their argument shapes are written down in exactly one place.

import { invoke, isTauri } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Board } from '$lib/bindings/Board';
import type { CreateWorkOrder } from '$lib/bindings/CreateWorkOrder';
import type { Deadlines } from '$lib/bindings/Deadlines';
import type { DeviceView } from '$lib/bindings/DeviceView';
import type { DispatchAction } from '$lib/bindings/DispatchAction';
import type { DispatchOptions } from '$lib/bindings/DispatchOptions';
import type { ExportedFile } from '$lib/bindings/ExportedFile';
import type { ExportFormat } from '$lib/bindings/ExportFormat';
import type { ExportedReport } from '$lib/bindings/ExportedReport';
import type { MonthlyView } from '$lib/bindings/MonthlyView';
import type { ScheduleDraft } from '$lib/bindings/ScheduleDraft';
import type { ChecklistTemplate } from '$lib/bindings/ChecklistTemplate';
import type { TemplateDraft } from '$lib/bindings/TemplateDraft';
import type { TemplateSummary } from '$lib/bindings/TemplateSummary';
import type { ScheduleView } from '$lib/bindings/ScheduleView';
import type { ReportVersion } from '$lib/bindings/ReportVersion';
import type { AppError } from '$lib/bindings/AppError';
import type { ErrorCode } from '$lib/bindings/ErrorCode';
import type { Locale } from '$lib/bindings/Locale';
import type { Settings } from '$lib/bindings/Settings';
import type { StoreChanged } from '$lib/bindings/StoreChanged';
import type { SyncStatus } from '$lib/bindings/SyncStatus';
import type { WorkOrderDetail } from '$lib/bindings/WorkOrderDetail';
import type { WorkOrderList } from '$lib/bindings/WorkOrderList';
import type { WorkOrderQuery } from '$lib/bindings/WorkOrderQuery';
import type { Answer } from '$lib/bindings/Answer';
import type { CorrectiveRequest } from '$lib/bindings/CorrectiveRequest';
import type { FaultLevel } from '$lib/bindings/FaultLevel';
import type { FaultDraft } from '$lib/bindings/FaultDraft';
import type { FaultRecord } from '$lib/bindings/FaultRecord';
import type { InspectionResult } from '$lib/bindings/InspectionResult';
import type { Note } from '$lib/bindings/Note';
import type { PartDraft } from '$lib/bindings/PartDraft';
import type { PartOption } from '$lib/bindings/PartOption';
import type { PartUsage } from '$lib/bindings/PartUsage';
import type { Photo } from '$lib/bindings/Photo';
import type { SignOff } from '$lib/bindings/SignOff';
import type { SignOffInput } from '$lib/bindings/SignOffInput';
import type { StatusAction } from '$lib/bindings/StatusAction';
import type { SyncOverview } from '$lib/bindings/SyncOverview';
import type { WorkOrderSummary } from '$lib/bindings/WorkOrderSummary';

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

/** A command whose body is raw bytes; its other arguments travel as percent-encoded headers. */
async function callRaw<T>(command: string, body: Uint8Array, headers: Record<string, string>): Promise<T> {
  if (!isTauri()) throw new BackendError('no_backend', 'not running inside the Fieldbook app');
  const encoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) encoded[name] = encodeURIComponent(value);
  try {
    return await invoke<T>(command, body, { headers: encoded });
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

/** The sync screen: status, the oldest pending changes, and every conflict (newest first). */
export function syncOverview(): Promise<SyncOverview> {
  return call<SyncOverview>('sync_overview');
}

/** First run without a server: fills the device with demo work and signs in as the demo technician. */
export function openOfflineDemo(): Promise<SyncStatus> {
  return call<SyncStatus>('open_offline_demo');
}

/**
 * Signs the device out and removes this user's data from it. Refused with code `unsynced` while
 * changes wait to be sent, unless `discardUnsent`.
 */
export function signOut(discardUnsent: boolean): Promise<SyncStatus> {
  return call<SyncStatus>('sign_out', { discardUnsent });
}

/** Tells the backend the network is back, so it syncs now rather than after its backoff. */
export function networkOnline(): Promise<void> {
  return call<void>('network_online');
}

/** Answers one checklist item; `supersedes` names the earlier answer this one corrects. */
export function recordAnswer(
  workOrderId: string,
  itemKey: string,
  answer: Answer,
  note: string,
  supersedes: string | null,
): Promise<InspectionResult> {
  return call<InspectionResult>('record_answer', { workOrderId, itemKey, answer, note, supersedes });
}

export function recordFault(workOrderId: string, draft: FaultDraft): Promise<FaultRecord> {
  return call<FaultRecord>('record_fault', { workOrderId, draft });
}

export function recordPart(workOrderId: string, draft: PartDraft): Promise<PartUsage> {
  return call<PartUsage>('record_part', { workOrderId, draft });
}

/**
 * Asks for a corrective work order from this visit, from the checklist item `itemKey` when
 * there is one. Drafted on the device; the server makes the work order (same id) on sync.
 */
export function requestCorrective(
  workOrderId: string,
  itemKey: string | null,
  faultLevel: FaultLevel,
  symptom: string,
): Promise<CorrectiveRequest> {
  return call<CorrectiveRequest>('request_corrective', { workOrderId, itemKey, faultLevel, symptom });
}

export function addNote(workOrderId: string, text: string): Promise<Note> {
  return call<Note>('add_note', { workOrderId, text });
}

/** A technician's status step: set_off, turn_back, arrive, reopen. */
export function changeStatus(workOrderId: string, action: StatusAction): Promise<WorkOrderSummary> {
  return call<WorkOrderSummary>('change_status', { workOrderId, action });
}

export function searchParts(search: string): Promise<PartOption[]> {
  return call<PartOption[]>('search_parts', { search });
}

/** The bytes of a photo or signature stored on the device (code `not_found` until synced). */
export async function blobBytes(id: string): Promise<Uint8Array> {
  const buffer = await call<ArrayBuffer>('blob', { id });
  return new Uint8Array(buffer);
}

/** A photo's thumbnail (a JPEG at most 256 px), made on the device from the photo. */
export async function photoThumbnail(id: string): Promise<Uint8Array> {
  const buffer = await call<ArrayBuffer>('photo_thumbnail', { id });
  return new Uint8Array(buffer);
}

/** Attaches a photo (the file's bytes as they are), optionally to one checklist item. */
export function attachPhoto(
  workOrderId: string,
  itemKey: string | null,
  caption: string,
  bytes: Uint8Array,
): Promise<Photo> {
  return callRaw<Photo>('attach_photo', bytes, {
    'work-order-id': workOrderId,
    'item-key': itemKey ?? '',
    caption,
  });
}

/**
 * The customer signs: the form, the signature drawn as a PNG and its pen strokes (JSON), sent
 * as one body with the PNG's length in a header. The visit then locks.
 */
export function signOff(
  workOrderId: string,
  form: SignOffInput,
  signaturePng: Uint8Array,
  strokes: Uint8Array,
): Promise<SignOff> {
  const body = new Uint8Array(signaturePng.length + strokes.length);
  body.set(signaturePng, 0);
  body.set(strokes, signaturePng.length);
  return callRaw<SignOff>('sign_off', body, {
    'work-order-id': workOrderId,
    'sign-off': JSON.stringify(form),
    'png-length': String(signaturePng.length),
  });
}

/** The signed versions of a visit's report, oldest first, each checked on this device. */
export function reports(workOrderId: string): Promise<ReportVersion[]> {
  return call<ReportVersion[]>('reports', { workOrderId });
}

/** The same, each also checked by the server's report ledger when it can be reached. */
export function verifyReports(workOrderId: string): Promise<ReportVersion[]> {
  return call<ReportVersion[]>('verify_reports', { workOrderId });
}

/** Writes a signed report (the latest unless `hash` names one) to a PDF, in `locale`. */
/** The signed report's pages as PNG images (base64), typeset as the PDF is. */
export function previewReport(workOrderId: string, hash: string | null, locale: Locale): Promise<string[]> {
  return call<string[]>('preview_report', { workOrderId, hash, locale });
}

export function exportReport(workOrderId: string, hash: string | null, locale: Locale): Promise<ExportedReport> {
  return call<ExportedReport>('export_report', { workOrderId, hash, locale });
}

/** A customer's monthly fault report (`month` as `2026-11`) with its charts, drawn up on the device. */
export function monthlyReport(customerId: string, month: string, locale: Locale): Promise<MonthlyView> {
  return call<MonthlyView>('monthly_report', { customerId, month, locale });
}

/** Writes the monthly report as PDF or CSV into the export folder. */
export function exportMonthly(
  customerId: string,
  month: string,
  locale: Locale,
  format: ExportFormat,
): Promise<ExportedFile> {
  return call<ExportedFile>('export_monthly', { customerId, month, locale, format });
}

/** Every checklist template version on the device, by code, newest first. */
export function templateCatalog(): Promise<TemplateSummary[]> {
  return call<TemplateSummary[]>('template_catalog', {});
}

/** One template version, whole. */
export function templateDetail(id: string): Promise<ChecklistTemplate> {
  return call<ChecklistTemplate>('template_detail', { id });
}

/** Saves a checklist as its code's next version (needs the network). */
export function saveTemplate(draft: TemplateDraft): Promise<TemplateSummary> {
  return call<TemplateSummary>('save_template', { draft });
}

/** The parts catalogue matching `search` (number or name). */
export function partCatalog(search: string): Promise<PartOption[]> {
  return call<PartOption[]>('part_catalog', { search });
}

/** Adds or changes a part of the catalogue (needs the network). */
export function savePart(part: PartOption): Promise<PartOption> {
  return call<PartOption>('save_part', { part });
}

/** The team's periodic duties, from the server (needs the network). */
export function schedules(): Promise<ScheduleView[]> {
  return call<ScheduleView[]>('schedules', {});
}

/** Makes a schedule on the server; its due work orders arrive by sync. */
export function createSchedule(draft: ScheduleDraft): Promise<ScheduleView[]> {
  return call<ScheduleView[]>('create_schedule', { draft });
}

/** Pauses or resumes a schedule. */
export function setScheduleActive(id: string, active: boolean): Promise<ScheduleView[]> {
  return call<ScheduleView[]>('set_schedule_active', { id, active });
}

/** A supervisor's board: open work by time left, visits to review, each technician's load. */
export function board(): Promise<Board> {
  return call<Board>('board', {});
}

/** The customers, sites, equipment and technicians a call can name. */
export function dispatchOptions(): Promise<DispatchOptions> {
  return call<DispatchOptions>('dispatch_options', {});
}

/** The deadlines a call for this customer at this fault level would get now. */
export function previewDeadlines(customerId: string, faultLevel: FaultLevel): Promise<Deadlines> {
  return call<Deadlines>('preview_deadlines', { customerId, faultLevel });
}

/** Records a customer's call as a new work order; synced like every change. */
export function createWorkOrder(call_: CreateWorkOrder): Promise<WorkOrderSummary> {
  return call<WorkOrderSummary>('create_work_order', { call: call_ });
}

/** A supervisor's step on a work order: assign, update, cancel, approve or return. */
export function dispatch(workOrderId: string, action: DispatchAction): Promise<WorkOrderSummary> {
  return call<WorkOrderSummary>('dispatch', { workOrderId, action });
}

/** The team's devices with their last sync, from the server. */
export function teamDevices(): Promise<DeviceView[]> {
  return call<DeviceView[]>('team_devices', {});
}

/** Revokes a lost device at once; returns the devices as they now stand. */
export function revokeDevice(id: string): Promise<DeviceView[]> {
  return call<DeviceView[]>('revoke_device', { id });
}

/** Opens an exported report in the system's PDF viewer. */
export function openReport(path: string): Promise<void> {
  return call<void>('open_report', { path });
}

/** Calls `onStatus` whenever sync starts, progresses, finishes or fails. */
export async function onSyncStatus(onStatus: (status: SyncStatus) => void): Promise<Unlisten> {
  if (!isTauri()) return () => {};
  return listen<SyncStatus>('sync-status', (event) => onStatus(event.payload));
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
