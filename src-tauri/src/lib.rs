//! The Tauri shell. Each command is one line over `fieldbook_app::App`, where the logic lives
//! and is tested; this file only wires the window, the data folder, background sync and the
//! change events.

use std::path::PathBuf;
use std::sync::Arc;

use fieldbook_app::{
    App, AppError, Board, DeviceView, DispatchOptions, ErrorCode, ExportFormat, ExportedFile, ExportedReport, Locale,
    MonthlyView, PartOption, ReportVersion, ScheduleDraft, ScheduleView, Settings, SignOffInput, SyncOverview,
    SyncStatus, SystemClock, TemplateDraft, TemplateSummary, WorkOrderDetail, WorkOrderList, WorkOrderQuery,
    WorkOrderSummary,
};
use fieldbook_domain::{
    Answer, ChecklistTemplate, CorrectiveRequest, CreateWorkOrder, Deadlines, DispatchAction, FaultDraft, FaultLevel,
    FaultRecord, InspectionResult, Note, PartDraft, PartUsage, Photo, SignOff, StatusAction,
};
use tauri::ipc::{InvokeBody, Request, Response};
use tauri::{Emitter, Manager, State};

type Shared<'a> = State<'a, Arc<App>>;

// Every command runs on the async runtime's threads (`async` below), never on the main thread:
// a store write waits for its fsync, and the main thread is the one that draws the window.

#[tauri::command(async)]
fn list_work_orders(app: Shared<'_>, query: WorkOrderQuery) -> Result<WorkOrderList, AppError> {
    app.list_work_orders(query)
}

#[tauri::command(async)]
fn work_order_detail(app: Shared<'_>, id: String) -> Result<WorkOrderDetail, AppError> {
    app.work_order_detail(&id)
}

#[tauri::command(async)]
fn get_settings(app: Shared<'_>) -> Result<Settings, AppError> {
    app.settings()
}

#[tauri::command(async)]
fn set_locale(app: Shared<'_>, locale: Locale) -> Result<Settings, AppError> {
    app.set_locale(locale)
}

#[tauri::command(async)]
fn sync_status(app: Shared<'_>) -> Result<SyncStatus, AppError> {
    app.sync_status()
}

#[tauri::command]
async fn sync_now(app: Shared<'_>) -> Result<SyncStatus, AppError> {
    app.sync_now().await
}

#[tauri::command]
async fn enroll(app: Shared<'_>, server: String, username: String, password: String) -> Result<SyncStatus, AppError> {
    app.enroll(&server, &username, &password, "Fieldbook").await
}

#[tauri::command(async)]
fn sync_overview(app: Shared<'_>) -> Result<SyncOverview, AppError> {
    app.sync_overview()
}

#[tauri::command(async)]
fn open_offline_demo(app: Shared<'_>) -> Result<SyncStatus, AppError> {
    app.open_offline_demo()
}

#[tauri::command(async)]
fn sign_out(app: Shared<'_>, discard_unsent: bool) -> Result<SyncStatus, AppError> {
    app.sign_out(discard_unsent)
}

/// The UI saw the network come back (the WebView's `online` event).
#[tauri::command(async)]
fn network_online(app: Shared<'_>) {
    app.wake_sync()
}

#[tauri::command(async)]
fn record_answer(
    app: Shared<'_>,
    work_order_id: String,
    item_key: String,
    answer: Answer,
    note: String,
    supersedes: Option<String>,
) -> Result<InspectionResult, AppError> {
    app.record_answer(&work_order_id, &item_key, answer, &note, supersedes.as_deref())
}

#[tauri::command(async)]
fn record_fault(app: Shared<'_>, work_order_id: String, draft: FaultDraft) -> Result<FaultRecord, AppError> {
    app.record_fault(&work_order_id, &draft)
}

#[tauri::command(async)]
fn record_part(app: Shared<'_>, work_order_id: String, draft: PartDraft) -> Result<PartUsage, AppError> {
    app.record_part(&work_order_id, &draft)
}

#[tauri::command(async)]
fn request_corrective(
    app: Shared<'_>,
    work_order_id: String,
    item_key: Option<String>,
    fault_level: FaultLevel,
    symptom: String,
) -> Result<CorrectiveRequest, AppError> {
    app.request_corrective(&work_order_id, item_key.as_deref(), fault_level, &symptom)
}

#[tauri::command(async)]
fn add_note(app: Shared<'_>, work_order_id: String, text: String) -> Result<Note, AppError> {
    app.add_note(&work_order_id, &text)
}

#[tauri::command(async)]
fn change_status(app: Shared<'_>, work_order_id: String, action: StatusAction) -> Result<WorkOrderSummary, AppError> {
    app.change_status(&work_order_id, action)
}

#[tauri::command(async)]
fn search_parts(app: Shared<'_>, search: String) -> Result<Vec<PartOption>, AppError> {
    app.search_parts(&search)
}

/// A photo's or signature's bytes, sent raw (no JSON).
#[tauri::command(async)]
fn blob(app: Shared<'_>, id: String) -> Result<Response, AppError> {
    app.blob(&id).map(Response::new)
}

/// A photo's thumbnail (at most 256 px), sent raw (no JSON).
#[tauri::command(async)]
fn photo_thumbnail(app: Shared<'_>, id: String) -> Result<Response, AppError> {
    app.photo_thumbnail(&id).map(Response::new)
}

/// Raw-body commands (a photo, a signature) carry their other arguments in headers, as
/// percent-encoded UTF-8.
fn header(request: &Request<'_>, name: &str) -> Result<Option<String>, AppError> {
    let Some(value) = request.headers().get(name) else { return Ok(None) };
    let text = value.to_str().map_err(|_| bad(format!("header {name} is not text")))?;
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| Some(decoded.into_owned()))
        .map_err(|_| bad(format!("header {name} is not percent-encoded UTF-8")))
}

fn bad(message: String) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

fn raw_body<'r>(request: &'r Request<'_>) -> Result<&'r [u8], AppError> {
    match request.body() {
        InvokeBody::Raw(bytes) => Ok(bytes),
        InvokeBody::Json(_) => Err(bad("send the image bytes as the raw body".into())),
    }
}

/// Attaches a photo: raw body = the image file; headers `work-order-id`, `item-key`
/// (optional), `caption`.
#[tauri::command(async)]
fn attach_photo(app: Shared<'_>, request: Request<'_>) -> Result<Photo, AppError> {
    let work_order = header(&request, "work-order-id")?.ok_or_else(|| bad("work-order-id is missing".into()))?;
    let item_key = header(&request, "item-key")?.filter(|k| !k.is_empty());
    let caption = header(&request, "caption")?.unwrap_or_default();
    app.attach_photo(&work_order, item_key.as_deref(), &caption, raw_body(&request)?)
}

/// The customer signs: raw body = the signature PNG followed by the pad's strokes (JSON);
/// headers `work-order-id`, `sign-off` (the form as JSON) and `png-length` (where the PNG
/// ends; without it the body is the PNG alone).
#[tauri::command(async)]
fn sign_off(app: Shared<'_>, request: Request<'_>) -> Result<SignOff, AppError> {
    let work_order = header(&request, "work-order-id")?.ok_or_else(|| bad("work-order-id is missing".into()))?;
    let form = header(&request, "sign-off")?.ok_or_else(|| bad("the sign-off form is missing".into()))?;
    let input: SignOffInput =
        serde_json::from_str(&form).map_err(|e| bad(format!("the sign-off form is malformed: {e}")))?;
    let body = raw_body(&request)?;
    let (png, strokes) = match header(&request, "png-length")? {
        None => (body, None),
        Some(length) => {
            let length: usize = length
                .parse()
                .ok()
                .filter(|l| *l <= body.len())
                .ok_or_else(|| bad(format!("png-length {length} does not fit a body of {} bytes", body.len())))?;
            let (png, strokes) = body.split_at(length);
            (png, Some(strokes).filter(|s| !s.is_empty()))
        }
    };
    app.sign(&work_order, &input, png, strokes)
}

#[tauri::command(async)]
fn reports(app: Shared<'_>, work_order_id: String) -> Result<Vec<ReportVersion>, AppError> {
    app.reports(&work_order_id)
}

#[tauri::command]
async fn verify_reports(app: Shared<'_>, work_order_id: String) -> Result<Vec<ReportVersion>, AppError> {
    app.verify_reports(&work_order_id).await
}

#[tauri::command(async)]
fn export_report(
    handle: tauri::AppHandle,
    app: Shared<'_>,
    work_order_id: String,
    hash: Option<String>,
    locale: Locale,
) -> Result<ExportedReport, AppError> {
    let dir = export_dir(&handle).map_err(|e| AppError::new(ErrorCode::Storage, e.to_string()))?;
    app.export_report(&work_order_id, hash.as_deref(), locale, &dir)
}

#[tauri::command(async)]
fn preview_report(
    app: Shared<'_>,
    work_order_id: String,
    hash: Option<String>,
    locale: Locale,
) -> Result<Vec<String>, AppError> {
    app.preview_report(&work_order_id, hash.as_deref(), locale)
}

#[tauri::command(async)]
fn monthly_report(
    app: Shared<'_>,
    customer_id: String,
    month: String,
    locale: Locale,
) -> Result<MonthlyView, AppError> {
    app.monthly_view(&customer_id, &month, locale)
}

#[tauri::command(async)]
fn export_monthly(
    handle: tauri::AppHandle,
    app: Shared<'_>,
    customer_id: String,
    month: String,
    locale: Locale,
    format: ExportFormat,
) -> Result<ExportedFile, AppError> {
    let dir = export_dir(&handle).map_err(|e| AppError::new(ErrorCode::Storage, e.to_string()))?;
    app.export_monthly(&customer_id, &month, locale, format, &dir)
}

#[tauri::command(async)]
fn template_catalog(app: Shared<'_>) -> Result<Vec<TemplateSummary>, AppError> {
    app.template_catalog()
}

#[tauri::command(async)]
fn template_detail(app: Shared<'_>, id: String) -> Result<ChecklistTemplate, AppError> {
    app.template_detail(&id)
}

#[tauri::command]
async fn save_template(app: Shared<'_>, draft: TemplateDraft) -> Result<TemplateSummary, AppError> {
    app.save_template(draft).await
}

#[tauri::command(async)]
fn part_catalog(app: Shared<'_>, search: String) -> Result<Vec<PartOption>, AppError> {
    app.part_catalog(&search)
}

#[tauri::command]
async fn save_part(app: Shared<'_>, part: PartOption) -> Result<PartOption, AppError> {
    app.save_part(part).await
}

#[tauri::command]
async fn schedules(app: Shared<'_>) -> Result<Vec<ScheduleView>, AppError> {
    app.schedules().await
}

#[tauri::command]
async fn create_schedule(app: Shared<'_>, draft: ScheduleDraft) -> Result<Vec<ScheduleView>, AppError> {
    app.create_schedule(draft).await
}

#[tauri::command]
async fn set_schedule_active(app: Shared<'_>, id: String, active: bool) -> Result<Vec<ScheduleView>, AppError> {
    app.set_schedule_active(&id, active).await
}

#[tauri::command(async)]
fn board(app: Shared<'_>) -> Result<Board, AppError> {
    app.board()
}

#[tauri::command(async)]
fn dispatch_options(app: Shared<'_>) -> Result<DispatchOptions, AppError> {
    app.dispatch_options()
}

#[tauri::command(async)]
fn preview_deadlines(app: Shared<'_>, customer_id: String, fault_level: FaultLevel) -> Result<Deadlines, AppError> {
    app.preview_deadlines(&customer_id, fault_level)
}

#[tauri::command(async)]
fn create_work_order(app: Shared<'_>, call: CreateWorkOrder) -> Result<WorkOrderSummary, AppError> {
    app.create_work_order(call)
}

#[tauri::command(async)]
fn dispatch(app: Shared<'_>, work_order_id: String, action: DispatchAction) -> Result<WorkOrderSummary, AppError> {
    app.dispatch(&work_order_id, action)
}

#[tauri::command]
async fn team_devices(app: Shared<'_>) -> Result<Vec<DeviceView>, AppError> {
    app.team_devices().await
}

#[tauri::command]
async fn revoke_device(app: Shared<'_>, id: String) -> Result<Vec<DeviceView>, AppError> {
    app.revoke_device(&id).await
}

/// Opens an exported report in the system's PDF viewer (only files in the export folder).
#[tauri::command(async)]
fn open_report(handle: tauri::AppHandle, path: String) -> Result<(), AppError> {
    let dir = export_dir(&handle).map_err(|e| AppError::new(ErrorCode::Storage, e.to_string()))?;
    let path = PathBuf::from(path);
    if path.parent() != Some(dir.as_path()) || path.extension().is_none_or(|e| e != "pdf" && e != "csv") {
        return Err(AppError::new(ErrorCode::Forbidden, "only exported reports can be opened from here"));
    }
    opener::open(&path).map_err(|e| AppError::new(ErrorCode::Storage, format!("no program could open it: {e}")))
}

/// Where reports are exported: `FIELDBOOK_EXPORT_DIR` when set (tests), else a Fieldbook
/// folder in the user's documents, else `reports` in the data folder.
fn export_dir(handle: &tauri::AppHandle) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(dir) = std::env::var_os("FIELDBOOK_EXPORT_DIR") {
        return Ok(PathBuf::from(dir));
    }
    match handle.path().document_dir() {
        Ok(documents) => Ok(documents.join("Fieldbook")),
        Err(_) => Ok(data_dir(handle)?.join("reports")),
    }
}

/// The data folder: `FIELDBOOK_DATA_DIR` when set (tests, the demo), else the platform's
/// app-data folder.
fn data_dir(handle: &tauri::AppHandle) -> Result<PathBuf, Box<dyn std::error::Error>> {
    match std::env::var_os("FIELDBOOK_DATA_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(handle.path().app_data_dir()?),
    }
}

/// Without a GPU (no DRM render node), WebKitGTK composites through Mesa's software GL: LLVM and
/// GL buffers in the web process, about 100 MB more resident memory (measured: docs/benchmarks.md),
/// for no speed, as the CPU draws every pixel either way. Then WebKit is asked to draw without
/// compositing, unless the user set the variable themselves. Called before any thread starts.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn draw_on_the_cpu_without_a_gpu() {
    let has_render_node = std::fs::read_dir("/dev/dri")
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false);
    if !has_render_node && std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // SAFETY: the process is still single-threaded (see main).
        unsafe { std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1") };
    }
}

pub fn run() {
    #[cfg(target_os = "linux")]
    draw_on_the_cpu_without_a_gpu();
    tauri::Builder::default()
        .setup(|tauri_app| {
            let handle = tauri_app.handle().clone();
            let app = Arc::new(App::open(&data_dir(&handle)?, Arc::new(SystemClock))?);
            let emitter = handle.clone();
            app.on_change(move |change| {
                // A closed window cannot receive the event; the next screen load reads the store.
                let _ = emitter.emit("store-changed", change);
            });
            let status_emitter = handle.clone();
            app.on_sync_status(move |status| {
                let _ = status_emitter.emit("sync-status", status);
            });
            // `./dev run` signs the demo device in to the local server this way.
            let sign_in = (
                std::env::var("FIELDBOOK_SERVER"),
                std::env::var("FIELDBOOK_USERNAME"),
                std::env::var("FIELDBOOK_PASSWORD"),
            );
            let background = app.clone();
            tauri::async_runtime::spawn(async move {
                if let (Ok(server), Ok(username), Ok(password)) = sign_in
                    && background.sync_status().is_ok_and(|s| s.server.is_none())
                {
                    let _ = background.enroll(&server, &username, &password, "Fieldbook").await;
                }
                fieldbook_app::sync::run(background).await;
            });
            tauri_app.manage(app);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            list_work_orders,
            work_order_detail,
            get_settings,
            set_locale,
            sync_status,
            sync_now,
            enroll,
            sync_overview,
            open_offline_demo,
            sign_out,
            network_online,
            record_answer,
            record_fault,
            record_part,
            request_corrective,
            add_note,
            change_status,
            search_parts,
            blob,
            photo_thumbnail,
            attach_photo,
            sign_off,
            reports,
            verify_reports,
            export_report,
            open_report,
            preview_report,
            monthly_report,
            export_monthly,
            template_catalog,
            template_detail,
            save_template,
            part_catalog,
            save_part,
            schedules,
            create_schedule,
            set_schedule_active,
            board,
            dispatch_options,
            preview_deadlines,
            create_work_order,
            dispatch,
            team_devices,
            revoke_device
        ])
        .run(tauri::generate_context!())
        .expect("the Fieldbook window could not start");
}
