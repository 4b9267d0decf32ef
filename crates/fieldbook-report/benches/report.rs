//! Typesetting time of a visit report with 20 photos, in Chinese (`cargo bench -p
//! fieldbook-report --bench report`, or `./dev bench`). Prints the font loading (once per
//! process) and the median render of the whole PDF; the in-app preview of the same report
//! (its pages as PNG); and the monthly fault report of a generated month (the figures, the
//! charts and the PDF).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::{FixedOffset, TimeZone, Utc};
use fieldbook_domain::monthly::{Month, compute};
use fieldbook_domain::{Visit, WorkOrderStatus};
use fieldbook_report::monthly::{MONTHLY_TEMPLATE, charts, render_monthly};
use fieldbook_report::{DEFAULT_TEMPLATE, Fonts, forget_cached_work, preview, render};

fn main() {
    let started = Instant::now();
    let fonts = Fonts::load().expect("the report fonts (fonts-noto-cjk)");
    println!("font loading (once per process):             {:8.1} ms", ms(started.elapsed()));
    let sample = support::sample(20);
    for locale in ["zh-CN", "en"] {
        let (data, images) = sample.report(locale);
        let image_bytes: usize = images.iter().map(|i| i.bytes.len()).sum();
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut size = 0;
        for _ in 0..7 {
            // Cold: nothing memoized from before (the first report after start).
            forget_cached_work();
            let start = Instant::now();
            size = render(&fonts, DEFAULT_TEMPLATE, &data, &images).expect("render").len();
            cold.push(start.elapsed());
            // Warm: the same report again, Typst's memoized layout reused.
            let start = Instant::now();
            render(&fonts, DEFAULT_TEMPLATE, &data, &images).expect("render");
            warm.push(start.elapsed());
        }
        cold.sort();
        warm.sort();
        println!(
            "report {locale:<5} with {} photos ({} KB of images): cold median {:7.1} ms (min {:7.1}), warm median {:5.1} ms, of 7; PDF {} KB",
            data.photos.len(),
            image_bytes / 1024,
            ms(cold[3]),
            ms(cold[0]),
            ms(warm[3]),
            size / 1024
        );
    }

    // The preview a supervisor reads before approving: every page drawn at 1.5 px per point.
    let (data, images) = sample.report("zh-CN");
    let times = median_of(7, || {
        forget_cached_work();
        preview(&fonts, DEFAULT_TEMPLATE, &data, &images, 1.5).expect("preview").len()
    });
    println!("preview zh-CN, every page as PNG (cold): median {:7.1} ms, of 7; {} pages", ms(times.0), times.1);

    // The monthly fault report of a generated month.
    let month = fieldbook_demo::month::month_of_faults(2026, 2026, 11);
    let visits = visits_of(&month.batch);
    let customer = month.batch.customers.iter().find(|c| c.id == month.customer).expect("the month's customer");
    let zone = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let as_of = Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap();
    let november = Month::new(2026, 11).expect("a month");
    let (figures, faults) =
        median_of(7, || compute(customer, november, zone, &visits, &month.batch.assets, as_of).faults as usize);
    let report = compute(customer, november, zone, &visits, &month.batch.assets, as_of);
    let (drawn, _) = median_of(7, || charts(&report, "zh-CN").expect("charts").levels.len());
    let (cold, size) = median_of(7, || {
        forget_cached_work();
        render_monthly(&fonts, MONTHLY_TEMPLATE, &report, "Fieldbook", "zh-CN", zone).expect("monthly PDF").len()
    });
    println!(
        "monthly report, {faults} faults of {} visits: figures {:6.2} ms, four charts {:6.2} ms, PDF (cold) {:7.1} ms; PDF {} KB",
        visits.len(),
        ms(figures),
        ms(drawn),
        ms(cold),
        size / 1024
    );
}

/// The median time of `runs` calls, and what the last call returned.
fn median_of(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut last = 0;
    for _ in 0..runs {
        let start = Instant::now();
        last = f();
        times.push(start.elapsed());
    }
    times.sort();
    (times[runs / 2], last)
}

/// The generated rows gathered into visits, as a device's store gives them: the sign-off of
/// the version in force (version `v` is signed by the `v + 1`-th).
fn visits_of(batch: &fieldbook_store::ImportBatch) -> Vec<Visit> {
    batch
        .work_orders
        .iter()
        .map(|w| {
            let mut signed: Vec<_> = batch.sign_offs.iter().filter(|s| s.work_order_id == w.id).cloned().collect();
            signed.sort_by_key(|s| s.signed_at);
            let in_force = signed.len() > w.visit_version as usize
                && matches!(
                    w.status,
                    WorkOrderStatus::Completed | WorkOrderStatus::Approved | WorkOrderStatus::Returned
                );
            Visit {
                work_order: w.clone(),
                template: None,
                results: batch.results.iter().filter(|r| r.work_order_id == w.id).cloned().collect(),
                faults: batch.faults.iter().filter(|r| r.work_order_id == w.id).cloned().collect(),
                parts: batch.parts.iter().filter(|r| r.work_order_id == w.id).cloned().collect(),
                photos: batch.photos.iter().filter(|r| r.work_order_id == w.id).cloned().collect(),
                sign_off: if in_force { signed.pop() } else { None },
                notes: batch.notes.iter().filter(|r| r.work_order_id == w.id).cloned().collect(),
            }
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
