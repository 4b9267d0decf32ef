//! Writes the sample visit report in Chinese and English: `cargo run --release -p
//! fieldbook-report --example sample -- <folder>` (used by `./dev report-samples`, which turns
//! the pages into PNGs under docs/screenshots/).

#[path = "../tests/support/mod.rs"]
mod support;

use fieldbook_domain::evidence::{DeviceKey, ReportDocument, ReportSigner};
use fieldbook_report::{DEFAULT_TEMPLATE, Fonts, Verification, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: sample <folder>")?);
    std::fs::create_dir_all(&folder)?;
    let fonts = Fonts::load()?;
    let sample = support::sample(4);
    // Signed as at sign-off (a fixed key and time, so the pages come out the same each run), so
    // the pages show the verification footer a real report carries.
    let signer = ReportSigner {
        id: sample.technician.id,
        name: sample.technician.name.clone(),
        staff_no: sample.technician.staff_no.clone(),
    };
    let signed_at = sample.visit.sign_off.as_ref().map_or(sample.visit.work_order.reported_at, |s| s.signed_at);
    let document = ReportDocument::of_visit(sample.visit.clone(), signer, "sample-tablet", signed_at, None);
    let signed = DeviceKey::from_secret([7; 32]).sign(document);
    for locale in ["zh-CN", "en"] {
        let (mut data, images) = sample.report(locale);
        data.verification = Some(Verification::of(&signed));
        let pdf = render(&fonts, DEFAULT_TEMPLATE, &data, &images)?;
        let path = folder.join(format!("visit-report-{locale}.pdf"));
        std::fs::write(&path, &pdf)?;
        println!("{} ({} KB)", path.display(), pdf.len() / 1024);
    }
    Ok(())
}
