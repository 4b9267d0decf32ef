//! The monthly fault report over a generated month of work (`fieldbook_demo::month`) in a real
//! device store: the app's figures against a second, plain computation over the same generated rows, and the PDF and
//! CSV exports read back (`pdftotext` from poppler-utils, installed by `./dev`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fieldbook_app::{App, ErrorCode, ExportFormat, Locale};
use fieldbook_demo::month::{MonthOfFaults, month_of_faults};
use fieldbook_domain::{
    AssetId, CustomerId, FaultLevel, FaultRecord, FaultRecordId, FixedClock, PartBilling, PartUsageId, SignOff,
    WorkOrder, WorkOrderKind, WorkOrderStatus,
};
use fieldbook_store::Store;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap()
}

fn generate(seed: u64) -> MonthOfFaults {
    month_of_faults(seed, 2026, 11)
}

/// The figures the report must show, computed plainly from the generated rows.
#[derive(Debug, Default)]
struct Expected {
    faults: u32,
    cancelled: u32,
    open: u32,
    by_level: BTreeMap<String, u32>,
    by_category: BTreeMap<String, u32>,
    respond: Vec<i64>,
    arrive: Vec<i64>,
    repair: Vec<i64>,
    breach_respond: u32,
    breach_arrive: u32,
    breach_resolve: u32,
    breached_orders: u32,
    resolved: u32,
    first_time: u32,
    repeat: BTreeMap<String, u32>,
    part_lines: BTreeMap<String, u32>,
    part_quantity: BTreeMap<String, u32>,
    paid_cents: i64,
    ratings: Vec<u8>,
    comments: u32,
}

fn expected(month: &MonthOfFaults) -> Expected {
    let b = &month.batch;
    let mut e = Expected::default();
    let in_november = |w: &&WorkOrder| {
        w.customer_id == month.customer
            && w.kind == WorkOrderKind::Repair
            && w.reported_at >= Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
            && w.reported_at < Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
    };
    let superseded_faults: HashSet<FaultRecordId> = b.faults.iter().filter_map(|f| f.supersedes).collect();
    let superseded_parts: HashSet<PartUsageId> = b.parts.iter().filter_map(|p| p.supersedes).collect();
    let mut per_asset: HashMap<AssetId, u32> = HashMap::new();
    for w in b.work_orders.iter().filter(in_november) {
        if w.status == WorkOrderStatus::Cancelled {
            e.cancelled += 1;
            continue;
        }
        e.faults += 1;
        *e.by_level.entry(w.fault_level.as_str().to_owned()).or_default() += 1;
        let mut records: Vec<&FaultRecord> =
            b.faults.iter().filter(|f| f.work_order_id == w.id && !superseded_faults.contains(&f.id)).collect();
        records.sort_by_key(|f| f.recorded_at);
        let category = records.last().map(|f| f.category.clone()).unwrap_or_default();
        *e.by_category.entry(category).or_default() += 1;
        let resolved = w.status == WorkOrderStatus::Completed || w.status == WorkOrderStatus::Approved;
        if !resolved {
            e.open += 1;
        }
        if let Some(r) = w.responded_at {
            e.respond.push((r - w.reported_at).num_minutes());
        }
        if let Some(a) = w.arrived_at {
            e.arrive.push((a - w.reported_at).num_minutes());
        }
        if resolved {
            e.repair.push((w.completed_at.unwrap() - w.reported_at).num_minutes());
        }
        let respond_late = w.responded_at.unwrap_or(now()) > w.deadlines.respond_by;
        let arrive_late = w.arrived_at.unwrap_or(now()) > w.deadlines.arrive_by;
        let done = if resolved { w.completed_at.unwrap() } else { now() };
        let resolve_late = done > w.deadlines.resolve_by;
        e.breach_respond += u32::from(respond_late);
        e.breach_arrive += u32::from(arrive_late);
        e.breach_resolve += u32::from(resolve_late);
        e.breached_orders += u32::from(respond_late || arrive_late || resolve_late);
        if resolved {
            e.resolved += 1;
            let came_back = w.asset_id.is_some()
                && b.work_orders.iter().any(|other| {
                    other.id != w.id
                        && other.kind == WorkOrderKind::Repair
                        && other.status != WorkOrderStatus::Cancelled
                        && other.asset_id == w.asset_id
                        && other.reported_at > w.reported_at
                        && other.reported_at <= w.completed_at.unwrap() + Duration::days(7)
                });
            if w.visit_version == 0 && !came_back {
                e.first_time += 1;
            }
            let mut signed: Vec<&SignOff> = b.sign_offs.iter().filter(|s| s.work_order_id == w.id).collect();
            signed.sort_by_key(|s| s.signed_at);
            let last = signed.last().unwrap();
            e.ratings.push(last.satisfaction.get());
            if !last.opinion.is_empty() {
                e.comments += 1;
            }
        }
        if let Some(asset) = w.asset_id {
            *per_asset.entry(asset).or_default() += 1;
        }
        for p in b.parts.iter().filter(|p| p.work_order_id == w.id && !superseded_parts.contains(&p.id)) {
            let name = p.billing.name().to_owned();
            *e.part_lines.entry(name.clone()).or_default() += 1;
            *e.part_quantity.entry(name).or_default() += p.quantity;
            if let PartBilling::Paid { unit_price_cents } = p.billing {
                e.paid_cents += unit_price_cents * i64::from(p.quantity);
            }
        }
    }
    for (asset, count) in per_asset {
        if count >= 2 {
            e.repeat.insert(asset.to_string(), count);
        }
    }
    e
}

fn mean(values: &[i64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<i64>() as f64 / values.len() as f64)
}

/// The 90th percentile by nearest rank: the smallest value with at least 90% of the values at
/// or below it.
fn p90(values: &[i64]) -> Option<i64> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.iter().copied().find(|v| sorted.iter().filter(|x| *x <= v).count() * 10 >= sorted.len() * 9)
}

fn supervisor_app(month: &MonthOfFaults) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("fieldbook.sqlite")).unwrap();
    store.import(&month.batch).unwrap();
    store.set_setting("user_role", "supervisor").unwrap();
    let app = App::with_store(store, Arc::new(FixedClock(now())));
    app.sign_in_as(month.supervisor).unwrap();
    (app, dir)
}

fn pdftotext(path: &str) -> String {
    let out = Command::new("pdftotext").args(["-layout", path, "-"]).output().expect("pdftotext runs");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_monthly_report_matches_a_plain_count_of_the_same_rows() {
    for seed in [7, 2026, 31337] {
        let month = generate(seed);
        let e = expected(&month);
        let (app, _dir) = supervisor_app(&month);
        let r = app.monthly_report(&month.customer.to_string(), "2026-11").unwrap();
        assert_eq!(r.month, "2026-11");
        assert_eq!(r.as_of, now());
        assert_eq!((r.faults, r.cancelled, r.open), (e.faults, e.cancelled, e.open), "seed {seed}");
        assert!(r.faults > 40, "a month of work: {}", r.faults);
        let levels: BTreeMap<String, u32> = r.by_level.iter().map(|c| (c.key.clone(), c.count)).collect();
        let mut expected_levels = e.by_level.clone();
        for level in FaultLevel::ALL {
            expected_levels.entry(level.as_str().to_owned()).or_default();
        }
        assert_eq!(levels, expected_levels);
        let categories: BTreeMap<String, u32> = r.by_category.iter().map(|c| (c.key.clone(), c.count)).collect();
        assert_eq!(categories, e.by_category);
        assert!(r.by_category.windows(2).all(|p| p[0].count >= p[1].count), "most frequent first");
        for (stats, values) in [(&r.respond, &e.respond), (&r.arrive, &e.arrive), (&r.repair, &e.repair)] {
            assert_eq!(stats.count as usize, values.len());
            let (got, want) = (stats.mean_minutes.unwrap(), mean(values).unwrap());
            assert!((got - want).abs() < 1e-9, "mean {got} against {want}");
            assert_eq!(stats.p90_minutes, p90(values));
        }
        let b = &r.breaches;
        assert_eq!(
            (b.respond, b.arrive, b.resolve, b.work_orders),
            (e.breach_respond, e.breach_arrive, e.breach_resolve, e.breached_orders)
        );
        assert!(b.work_orders > 0 && b.work_orders < r.faults, "some breaches, not all: {b:?}");
        assert_eq!((r.first_time_fix.resolved, r.first_time_fix.first_time), (e.resolved, e.first_time));
        assert!(e.first_time > 0 && e.first_time < e.resolved, "the rule separates: {e:?}");
        assert_eq!(r.first_time_fix.rate, Some(f64::from(e.first_time) / f64::from(e.resolved)));
        let repeats: BTreeMap<String, u32> = r.repeat_assets.iter().map(|a| (a.asset_id.clone(), a.faults)).collect();
        assert_eq!(repeats, e.repeat);
        assert!(r.repeat_assets.iter().all(|a| a.work_orders.len() == a.faults as usize && !a.model.is_empty()));
        for p in &r.parts {
            assert_eq!(p.lines, e.part_lines.get(&p.billing).copied().unwrap_or(0), "{}", p.billing);
            assert_eq!(p.quantity, e.part_quantity.get(&p.billing).copied().unwrap_or(0), "{}", p.billing);
        }
        assert_eq!(r.parts.iter().find(|p| p.billing == "paid").unwrap().amount_cents, e.paid_cents);
        assert_eq!(r.parts.iter().filter(|p| p.billing != "paid").map(|p| p.amount_cents).sum::<i64>(), 0);
        assert_eq!(r.satisfaction.rated as usize, e.ratings.len());
        let average = e.ratings.iter().map(|s| f64::from(*s)).sum::<f64>() / e.ratings.len() as f64;
        assert!((r.satisfaction.average.unwrap() - average).abs() < 1e-9);
        for star in 1..=5u8 {
            let count = e.ratings.iter().filter(|s| **s == star).count() as u32;
            assert_eq!(r.satisfaction.distribution[usize::from(star - 1)], count);
        }
        assert_eq!(r.comments.len() as u32, e.comments);
        assert_eq!(r.lines.len() as u32, r.faults);
    }
}

#[test]
fn the_month_exports_to_pdf_and_csv_with_its_totals() {
    let month = generate(2026);
    let e = expected(&month);
    let (app, _dir) = supervisor_app(&month);
    let customer = month.customer.to_string();
    let out = tempfile::tempdir().unwrap();

    let view = app.monthly_view(&customer, "2026-11", Locale::ZhCn).unwrap();
    for svg in [&view.charts.levels, &view.charts.categories, &view.charts.times, &view.charts.satisfaction] {
        assert!(svg.starts_with("<svg") && svg.contains("<rect"), "a drawn chart: {}", &svg[..svg.len().min(200)]);
    }
    assert!(view.charts.levels.contains("一级"), "the chart is worded in Chinese");

    let pdf = app.export_monthly(&customer, "2026-11", Locale::ZhCn, ExportFormat::Pdf, out.path()).unwrap();
    assert!(std::fs::read(&pdf.path).unwrap().starts_with(b"%PDF-"));
    let text: String = pdftotext(&pdf.path).chars().filter(|c| !c.is_whitespace()).collect();
    let paid = format!("{}.{:02}", e.paid_cents / 100, e.paid_cents % 100);
    for expected in ["设备故障月报表", "宁波港集团信息中心", "2026-11", "一次修复率", "客户意见", &paid]
    {
        assert!(text.contains(expected), "{expected} is missing from the PDF:\n{text}");
    }
    // The totals: the fault count heads the summary, the breached count follows the label.
    assert!(text.contains(&format!("合计{}100%", e.faults)), "the fault total {} in:\n{text}", e.faults);
    assert!(text.contains(&format!("超时工单{}", e.breached_orders)), "breached total in:\n{text}");
    let english = app.export_monthly(&customer, "2026-11", Locale::En, ExportFormat::Pdf, out.path()).unwrap();
    let english = pdftotext(&english.path);
    assert!(english.contains("Monthly fault report") && english.contains("First-time fix rate"), "{english}");

    let csv = app.export_monthly(&customer, "2026-11", Locale::ZhCn, ExportFormat::Csv, out.path()).unwrap();
    let bytes = std::fs::read(&csv.path).unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a byte-order mark for spreadsheets");
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(&bytes[3..]);
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>()).collect();
    let figure = |section: &str, item: &str| {
        rows.iter().find(|r| r[0] == section && r[1] == item).map(|r| r[2].clone()).unwrap_or_default()
    };
    assert_eq!(figure("total", "faults"), e.faults.to_string());
    assert_eq!(figure("total", "cancelled"), e.cancelled.to_string());
    assert_eq!(figure("breach", "work_orders"), e.breached_orders.to_string());
    assert_eq!(figure("first_time_fix", "first_time"), e.first_time.to_string());
    assert_eq!(figure("parts", "paid_amount"), paid);
    let header = rows.iter().position(|r| r[0] == "work_order").expect("the fault lines' header");
    assert_eq!(rows.len() - header - 1, e.faults as usize, "one line per fault");
}

#[test]
fn bad_months_unknown_customers_and_technicians_are_refused() {
    let month = generate(1);
    let (app, _dir) = supervisor_app(&month);
    let customer = month.customer.to_string();
    for bad in ["2026-13", "November", "", "2026-1-1"] {
        let err = app.monthly_report(&customer, bad).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{bad}: {err}");
    }
    let err = app.monthly_report(&CustomerId::new().to_string(), "2026-11").unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound, "{err}");
    let err = app.monthly_report("not-an-id", "2026-11").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput, "{err}");
    // An empty month is a report of zeros, not an error.
    let empty = app.monthly_report(&customer, "2026-06").unwrap();
    assert_eq!((empty.faults, empty.first_time_fix.rate, empty.satisfaction.average), (0, None, None));
    let out = tempfile::tempdir().unwrap();
    app.export_monthly(&customer, "2026-06", Locale::En, ExportFormat::Pdf, out.path()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("fieldbook.sqlite")).unwrap();
    store.import(&month.batch).unwrap();
    store.set_setting("user_role", "technician").unwrap();
    let technician = App::with_store(store, Arc::new(FixedClock(now())));
    technician.sign_in_as(month.technician).unwrap();
    let err = technician.monthly_report(&customer, "2026-11").unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{err}");
    let err = technician.export_monthly(&customer, "2026-11", Locale::ZhCn, ExportFormat::Csv, out.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{err}");
}
