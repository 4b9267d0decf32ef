//! Writes the sample visit report in Chinese and English: `cargo run --release -p
//! fieldbook-report --example sample -- <folder>` (used by `./dev report-samples`, which turns
//! the pages into PNGs under docs/screenshots/).

#[path = "../tests/support/mod.rs"]
mod support;

use fieldbook_report::{DEFAULT_TEMPLATE, Fonts, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: sample <folder>")?);
    std::fs::create_dir_all(&folder)?;
    let fonts = Fonts::load()?;
    let sample = support::sample(4);
    for locale in ["zh-CN", "en"] {
        let (data, images) = sample.report(locale);
        let pdf = render(&fonts, DEFAULT_TEMPLATE, &data, &images)?;
        let path = folder.join(format!("visit-report-{locale}.pdf"));
        std::fs::write(&path, &pdf)?;
        println!("{} ({} KB)", path.display(), pdf.len() / 1024);
    }
    Ok(())
}
