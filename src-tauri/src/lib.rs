//! The Tauri shell. Each command is one line over `fieldbook_app::App`, where the logic lives
//! and is tested; this file only wires the window, the data folder and the change events.

use std::path::PathBuf;
use std::sync::Arc;

use fieldbook_app::{App, AppError, Locale, Settings, SystemClock, WorkOrderDetail, WorkOrderList, WorkOrderQuery};
use tauri::{Emitter, Manager, State};

#[tauri::command]
fn list_work_orders(app: State<'_, App>, query: WorkOrderQuery) -> Result<WorkOrderList, AppError> {
    app.list_work_orders(query)
}

#[tauri::command]
fn work_order_detail(app: State<'_, App>, id: String) -> Result<WorkOrderDetail, AppError> {
    app.work_order_detail(&id)
}

#[tauri::command]
fn get_settings(app: State<'_, App>) -> Result<Settings, AppError> {
    app.settings()
}

#[tauri::command]
fn set_locale(app: State<'_, App>, locale: Locale) -> Result<Settings, AppError> {
    app.set_locale(locale)
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
            let app = App::open(&data_dir(&handle)?, Arc::new(SystemClock))?;
            let emitter = handle.clone();
            app.on_change(move |change| {
                // A closed window cannot receive the event; the next screen load reads the store.
                let _ = emitter.emit("store-changed", change);
            });
            tauri_app.manage(app);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![list_work_orders, work_order_detail, get_settings, set_locale])
        .run(tauri::generate_context!())
        .expect("the Fieldbook window could not start");
}
