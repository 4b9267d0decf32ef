//! Helpers shared by Fieldbook's cross-crate tests, and the end-to-end harness that drives the
//! real app through tauri-driver and WebKitWebDriver (feature `e2e`).

#[cfg(feature = "e2e")]
pub mod e2e;
pub mod loopback;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

/// Fills `data_dir` with a device store holding technician 1's demo work orders, signed in
/// as that technician, in `locale`. Returns the demo data set.
pub fn demo_device(data_dir: &Path, work_orders: usize, locale: &str) -> fieldbook_demo::DemoData {
    let data = fieldbook_demo::generate(&fieldbook_demo::DemoOptions::new(work_orders * 3, chrono::Utc::now()));
    let technician = &data.technicians[0];
    std::fs::create_dir_all(data_dir).expect("create the data folder");
    let mut store = fieldbook_store::Store::open(data_dir.join("fieldbook.sqlite")).expect("open the store");
    store.import(&data.for_technician(technician.id)).expect("import the demo data");
    store.set_setting("user_id", &technician.id.to_string()).expect("sign in");
    store.set_setting("locale", locale).expect("set the language");
    data
}
