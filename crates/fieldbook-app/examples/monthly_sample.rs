//! Writes the monthly fault report of a generated month (`fieldbook_demo::month`) as PDF and
//! CSV in both languages into the folder given, through a real device store and the app's own
//! export: `./dev report-samples` turns the PDFs' pages into the images under docs/screenshots.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use fieldbook_app::{App, ExportFormat, Locale};
use fieldbook_domain::FixedClock;
use fieldbook_store::Store;

fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: monthly_sample OUT_DIR"));
    let month = fieldbook_demo::month::month_of_faults(2026, 2026, 11);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut store = Store::open(dir.path().join("fieldbook.sqlite")).expect("a store");
    store.import(&month.batch).expect("the month imports");
    store.set_setting("user_role", "supervisor").expect("a setting");
    store.set_setting("company.name", "Fieldbook 售后服务部").expect("a setting");
    let app = App::with_store(store, Arc::new(FixedClock(Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap())));
    app.sign_in_as(month.supervisor).expect("signed in");
    let customer = month.customer.to_string();
    for locale in [Locale::ZhCn, Locale::En] {
        for format in [ExportFormat::Pdf, ExportFormat::Csv] {
            let file = app.export_monthly(&customer, "2026-11", locale, format, &out).expect("the export");
            let name = format!(
                "monthly-report-{}.{}",
                locale.as_str(),
                if format == ExportFormat::Pdf { "pdf" } else { "csv" }
            );
            std::fs::rename(&file.path, out.join(&name)).expect("renamed");
            println!("{name}: {} bytes", file.bytes);
        }
    }
}
