//! The API the UI calls, on a real store file, without Tauri.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use fieldbook_app::{App, AppError, DayView, DeadlineKind, ErrorCode, Locale, WorkOrderQuery};
use fieldbook_demo::{DemoOptions, generate};
use fieldbook_domain::*;
use fieldbook_store::Store;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap().with_timezone(&Utc)
}

struct Fixture {
    _dir: tempfile::TempDir,
    app: App,
    data: fieldbook_demo::DemoData,
}

/// Technician 1's device, signed in, holding the whole demo set (so that another
/// technician's work order is on the device too, as after a reassignment).
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = generate(&DemoOptions::new(90, now()));
    let mut store = Store::open(dir.path().join("fieldbook.sqlite")).unwrap();
    store.import(&data.batch).unwrap();
    let app = App::with_store(store, Arc::new(FixedClock(now())));
    app.sign_in_as(data.technicians[0].id).unwrap();
    Fixture { _dir: dir, app, data }
}

fn code(result: Result<impl std::fmt::Debug, AppError>) -> (ErrorCode, String) {
    let err = result.unwrap_err();
    (err.code, err.message)
}

impl Fixture {
    /// An assigned work order of `technician` with a checklist.
    fn assigned(&self, technician: usize) -> String {
        let tech = &self.data.technicians[technician];
        self.data
            .batch
            .work_orders
            .iter()
            .find(|w| w.assignee == Some(tech.id) && w.status == WorkOrderStatus::Assigned && w.template_id.is_some())
            .expect("an assigned work order with a checklist")
            .id
            .to_string()
    }

    fn on_site(&self) -> String {
        let id = self.assigned(0);
        self.app.change_status(&id, StatusAction::SetOff).unwrap();
        self.app.change_status(&id, StatusAction::Arrive).unwrap();
        id
    }

    fn footprint(&self) -> (u64, usize) {
        let results: usize = self
            .data
            .batch
            .work_orders
            .iter()
            .map(|w| self.app.work_order_detail(&w.id.to_string()).unwrap().results.len())
            .sum();
        (self.app.pending_changes().unwrap(), results)
    }
}

#[test]
fn the_list_shows_each_work_orders_next_deadline_as_it_stands_now() {
    let f = fixture();
    let list = f.app.list_work_orders(WorkOrderQuery::default()).unwrap();
    assert_eq!(list.now, now());
    assert_eq!(list.total as usize, f.data.batch.work_orders.len());
    let first = &list.items[0];
    let due = first.next_due.as_ref().expect("the most urgent work order is open");
    let original = f.data.batch.work_orders.iter().find(|w| w.id.to_string() == first.id).unwrap();
    assert_eq!(due.state, DeadlineState::assess(due.due, None, original.reported_at, now()));
    for item in &list.items {
        // Closed work has no deadline left; open work has one until all its promises are met
        // (a returned visit was already resolved once).
        if !item.status.is_open() {
            assert!(item.next_due.is_none(), "{}", item.number);
        }
        if matches!(item.status, WorkOrderStatus::Assigned | WorkOrderStatus::EnRoute) {
            assert!(item.next_due.is_some(), "{}", item.number);
        }
    }
    // Urgent open work shows its respond or arrive deadline, not resolve, until those are met.
    let assigned = list.items.iter().find(|i| i.status == WorkOrderStatus::Assigned).unwrap();
    assert_eq!(assigned.next_due.as_ref().unwrap().kind, DeadlineKind::Respond);
}

#[test]
fn the_list_is_read_in_pages_with_its_groups_counted_and_a_view_of_the_day() {
    let f = fixture();
    let whole = f.app.list_work_orders(WorkOrderQuery { limit: Some(1000), ..Default::default() }).unwrap();
    assert_eq!(whole.offset, 0);
    assert_eq!(whole.groups.iter().map(|g| g.count).sum::<u32>(), whole.total);
    assert_eq!(whole.items.len() as u32, whole.total);
    // The rows follow the groups: each group's count of rows, in the groups' order.
    let mut at = 0;
    for group in &whole.groups {
        assert!(whole.items[at..at + group.count as usize].iter().all(|i| i.status == group.status));
        at += group.count as usize;
    }
    let page =
        f.app.list_work_orders(WorkOrderQuery { offset: Some(10), limit: Some(5), ..Default::default() }).unwrap();
    assert_eq!((page.offset, page.total, page.groups.clone()), (10, whole.total, whole.groups.clone()));
    let ids = |items: &[fieldbook_app::WorkOrderSummary]| items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&page.items), ids(&whole.items[10..15]));
    // The views split the list by the day's end the UI sends.
    let ends = now() + Duration::hours(3);
    let view = |view| {
        let query =
            WorkOrderQuery { view: Some(view), day_ends_at: Some(ends), limit: Some(1000), ..Default::default() };
        f.app.list_work_orders(query).unwrap()
    };
    let [today, upcoming, done] = [DayView::Today, DayView::Upcoming, DayView::Done].map(view);
    assert_eq!(today.total + upcoming.total + done.total, whole.total);
    assert!(today.total > 0 && upcoming.total > 0 && done.total > 0);
    assert!(done.items.iter().all(|i| !i.status.is_open()));
    for item in &today.items {
        let underway = matches!(item.status, WorkOrderStatus::EnRoute | WorkOrderStatus::OnSite);
        let due_today = item.next_due.as_ref().is_some_and(|d| d.due < ends);
        assert!(underway || due_today || item.scheduled_for.is_some_and(|at| at < ends), "{}", item.number);
    }
}

#[test]
fn the_detail_carries_everything_the_screen_shows() {
    let f = fixture();
    let id = f.assigned(0);
    let detail = f.app.work_order_detail(&id).unwrap();
    assert_eq!(detail.summary.id, id);
    assert!(detail.asset.is_some());
    assert!(!detail.contact_phone.is_empty());
    assert_eq!(detail.deadlines.len(), if detail.summary.fault_level == FaultLevel::Critical { 4 } else { 3 });
    assert!(detail.template.is_some());
    assert!(detail.missing.is_empty(), "nothing is asked of a visit that has not started");
    let on_site = f.on_site();
    let detail = f.app.work_order_detail(&on_site).unwrap();
    assert!(detail.missing.contains(&Missing::SignOff));
    assert!(detail.deadlines.iter().any(|d| d.kind == DeadlineKind::Arrive && d.done_at == Some(now())));
    // Past visits on the same asset are listed, newest first, without the work order itself.
    let with_history = f
        .data
        .batch
        .work_orders
        .iter()
        .find(|w| f.data.batch.work_orders.iter().filter(|o| o.asset_id == w.asset_id).count() > 2)
        .unwrap();
    let detail = f.app.work_order_detail(&with_history.id.to_string()).unwrap();
    assert!(!detail.asset_history.is_empty());
    assert!(detail.asset_history.iter().all(|h| h.id != with_history.id.to_string()));
    assert!(detail.asset_history.windows(2).all(|w| w[0].reported_at >= w[1].reported_at));
}

#[test]
fn malformed_ids_and_bad_queries_get_typed_errors() {
    let f = fixture();
    let (c, m) = code(f.app.work_order_detail("WO-1; DROP TABLE work_orders"));
    assert_eq!(c, ErrorCode::InvalidInput);
    assert!(m.contains("work order id"), "{m}");
    let (c, _) = code(f.app.work_order_detail(&WorkOrderId::new().to_string()));
    assert_eq!(c, ErrorCode::NotFound);
    let (c, m) = code(f.app.list_work_orders(WorkOrderQuery { limit: Some(0), ..Default::default() }));
    assert_eq!(c, ErrorCode::InvalidInput);
    assert!(m.contains("limit"), "{m}");
    let (c, _) = code(f.app.record_answer("nope", "look.four_no_dust", Answer::Check(CheckOutcome::Normal), "", None));
    assert_eq!(c, ErrorCode::InvalidInput);
    let id = f.on_site();
    let (c, m) =
        code(f.app.record_answer(&id, "look.four_no_dust", Answer::Check(CheckOutcome::Normal), "", Some("x")));
    assert_eq!(c, ErrorCode::InvalidInput);
    assert!(m.contains("inspection result id"), "{m}");
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let f = fixture();
    let id = f.on_site();
    let before = f.footprint();
    let (c, m) = code(f.app.record_answer(&id, "smell.roses", Answer::Check(CheckOutcome::Normal), "", None));
    assert_eq!(c, ErrorCode::RuleViolation);
    assert!(m.contains("smell.roses"), "{m}");
    let part = PartDraft {
        part_number: "HK-PSU-12V2A".into(),
        name: "电源适配器".into(),
        quantity: 0,
        serial: String::new(),
        billing: PartBilling::Paid { unit_price_cents: 4500 },
        old_part_returned: false,
        needs_customer_approval: false,
        supersedes: None,
        billing_reason: None,
    };
    assert_eq!(code(f.app.record_part(&id, &part)).0, ErrorCode::InvalidInput);
    assert_eq!(
        code(f.app.record_part(&id, &PartDraft { part_number: "  ".into(), quantity: 1, ..part })).0,
        ErrorCode::InvalidInput
    );
    let png = fieldbook_demo::DEMO_SIGNATURE_PNG;
    for satisfaction in [0, 6] {
        let draft = SignOffDraft {
            signer_name: "王经理".into(),
            opinion: String::new(),
            satisfaction,
            signature: BlobId::of_bytes(png),
            strokes: None,
        };
        let (c, m) = code(f.app.sign_off(&id, &draft, png, None));
        assert_eq!(c, ErrorCode::InvalidInput);
        assert!(m.contains("1 to 5"), "{m}");
    }
    assert_eq!(code(f.app.add_note(&id, " \n ")).0, ErrorCode::InvalidInput);
    assert_eq!(code(f.app.attach_photo(&id, None, "", b"")).0, ErrorCode::InvalidInput);
    assert_eq!(f.footprint(), before);
}

#[test]
fn a_technician_cannot_touch_another_technicians_work_order() {
    let f = fixture();
    let theirs = f.assigned(1);
    let before = f.footprint();
    let (c, m) = code(f.app.change_status(&theirs, StatusAction::SetOff));
    assert_eq!(c, ErrorCode::Forbidden);
    assert!(m.contains("assigned to someone else"), "{m}");
    assert_eq!(code(f.app.add_note(&theirs, "我来处理")).0, ErrorCode::Forbidden);
    assert_eq!(
        code(f.app.record_answer(&theirs, "look.four_no_dust", Answer::Check(CheckOutcome::Normal), "", None)).0,
        ErrorCode::Forbidden
    );
    // Nor take a supervisor's action on their own.
    let mine = f.assigned(0);
    assert_eq!(code(f.app.change_status(&mine, StatusAction::Cancel)).0, ErrorCode::Forbidden);
    assert_eq!(f.footprint(), before);
    assert_eq!(f.app.work_order_detail(&theirs).unwrap().summary.status, WorkOrderStatus::Assigned);
}

#[test]
fn nothing_is_recorded_before_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = generate(&DemoOptions::new(10, now()));
    let mut store = Store::open(dir.path().join("fieldbook.sqlite")).unwrap();
    store.import(&data.batch).unwrap();
    let app = App::with_store(store, Arc::new(FixedClock(now())));
    let id = data.batch.work_orders[0].id.to_string();
    assert_eq!(code(app.add_note(&id, "hello")).0, ErrorCode::NotSignedIn);
}

#[test]
fn the_language_choice_persists() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path(), Arc::new(FixedClock(now()))).unwrap();
    assert_eq!(app.settings().unwrap().locale, Locale::ZhCn, "Chinese is the default");
    app.set_locale(Locale::En).unwrap();
    drop(app);
    let app = App::open(dir.path(), Arc::new(FixedClock(now()))).unwrap();
    assert_eq!(app.settings().unwrap().locale, Locale::En);
}

#[test]
fn writes_notify_the_screens_and_reads_see_the_change() {
    let f = fixture();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    f.app.on_change(move |change| sink.lock().unwrap().push(change.work_order_id));
    let id = f.on_site();
    let result = f.app.record_answer(&id, "test.cabinet_temp", Answer::Reading(52.0), "过热", None).unwrap();
    assert_eq!(result.assessment, Assessment::Abnormal);
    let detail = f.app.work_order_detail(&id).unwrap();
    assert_eq!(detail.current_results, vec![result]);
    assert_eq!(seen.lock().unwrap().len(), 3, "set off, arrive, answer");
    assert!(seen.lock().unwrap().iter().all(|w| w.as_deref() == Some(id.as_str())));
    assert!(detail.summary.next_due.unwrap().due > now() - Duration::days(30));
}

/// A real JPEG of `width`×`height` with a gradient, as a camera would hand it over.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

#[test]
fn a_photo_is_kept_processed_and_a_bad_file_or_a_blank_signature_changes_nothing() {
    let f = fixture();
    let id = f.on_site();
    let original = jpeg(3000, 2000);
    let photo = f.app.attach_photo(&id, None, "配电柜正面", &original).unwrap();
    assert_ne!(photo.blob, BlobId::of_bytes(&original), "the kept photo is the processed one");
    let kept = f.app.blob(photo.blob.as_str()).unwrap();
    assert_eq!(photo.blob, BlobId::of_bytes(&kept));
    let decoded = image::load_from_memory(&kept).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1600, 1067), "downscaled to the 1600 px long edge");
    assert!(kept.len() < original.len());

    let before = f.footprint();
    let truncated = original[..original.len() / 2].to_vec();
    for (bad, expected) in
        [(b"hello, not a photo".to_vec(), "is not a"), (truncated, "damaged or incomplete"), (Vec::new(), "empty")]
    {
        let (c, m) = code(f.app.attach_photo(&id, None, "", &bad));
        assert_eq!(c, ErrorCode::InvalidInput, "{m}");
        assert!(m.to_lowercase().contains(expected), "{expected}: {m}");
    }
    // A blank signature pad and a single dot are refused before anything is written.
    let mut blank = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(image::RgbaImage::new(600, 200))
        .write_to(&mut blank, image::ImageFormat::Png)
        .unwrap();
    let input =
        fieldbook_app::SignOffInput { signer_name: "王经理".into(), opinion: String::new(), satisfaction: 5 };
    let (c, m) = code(f.app.sign(&id, &input, blank.get_ref(), None));
    assert_eq!(c, ErrorCode::InvalidInput, "{m}");
    assert_eq!(f.footprint(), before);
    assert!(f.app.work_order_detail(&id).unwrap().sign_off.is_none());
}
