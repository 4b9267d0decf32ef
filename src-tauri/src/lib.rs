//! The Tauri shell. Each command is one line over `fieldbook_app::App`, where the logic lives
//! and is tested; this file only wires the window, the data folder, background sync and the
//! change events.

use std::path::PathBuf;
use std::sync::Arc;

use fieldbook_app::{
    App, AppError, Locale, Settings, SyncStatus, SystemClock, WorkOrderDetail, WorkOrderList, WorkOrderQuery,
};
use tauri::{Emitter, Manager, State};

type Shared<'a> = State<'a, Arc<App>>;

#[tauri::command]
fn list_work_orders(app: Shared<'_>, query: WorkOrderQuery) -> Result<WorkOrderList, AppError> {
    app.list_work_orders(query)
}

#[tauri::command]
fn work_order_detail(app: Shared<'_>, id: String) -> Result<WorkOrderDetail, AppError> {
    app.work_order_detail(&id)
}

#[tauri::command]
fn get_settings(app: Shared<'_>) -> Result<Settings, AppError> {
    app.settings()
}

#[tauri::command]
fn set_locale(app: Shared<'_>, locale: Locale) -> Result<Settings, AppError> {
    app.set_locale(locale)
}

#[tauri::command]
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

/// The data folder: `FIELDBOOK_DATA_DIR` when set (tests, the demo), else the platform's
/// app-data folder.
fn data_dir(handle: &tauri::AppHandle) -> Result<PathBuf, Box<dyn std::error::Error>> {
    match std::env::var_os("FIELDBOOK_DATA_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(handle.path().app_data_dir()?),
    }
}

pub fn run() {
    tauri::Builder::default()
        .setup(|tauri_app| {
            let handle = tauri_app.handle().clone();
            let app = Arc::new(App::open(&data_dir(&handle)?, Arc::new(SystemClock))?);
            let emitter = handle.clone();
            app.on_change(move |change| {
                // A closed window cannot receive the event; the next screen load reads the store.
                let _ = emitter.emit("store-changed", change);
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
            enroll
        ])
        .run(tauri::generate_context!())
        .expect("the Fieldbook window could not start");
}
