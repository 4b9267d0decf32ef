//! Fills a device store with the demo data set for one technician.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use fieldbook_demo::{DemoOptions, generate};
use fieldbook_store::Store;

/// Writes the demo data set into a Fieldbook device store.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The store file to fill (created if missing).
    #[arg(long)]
    store: PathBuf,
    /// How many work orders the technician's device holds (10 to 100,000).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    work_orders: u32,
    /// Which technician the device belongs to: 1, 2 or 3.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3))]
    technician: u8,
    /// Interface language stored for the app: zh-CN or en.
    #[arg(long, default_value = "zh-CN")]
    locale: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let technician_index = usize::from(args.technician - 1);
    // Every technician gets an equal share, so generate three times what this device holds.
    let options = DemoOptions::new(args.work_orders as usize * 3, chrono::Utc::now());
    let data = generate(&options);
    let technician = &data.technicians[technician_index];
    let batch = data.for_technician(technician.id);
    let mut store = Store::open(&args.store).with_context(|| format!("opening {}", args.store.display()))?;
    store.import(&batch).context("writing the demo data")?;
    store.set_setting("user_id", &technician.id.to_string())?;
    store.set_setting("locale", &args.locale)?;
    println!(
        "{}: {} work orders for {} ({})",
        args.store.display(),
        batch.work_orders.len(),
        technician.name,
        technician.staff_no
    );
    Ok(())
}
