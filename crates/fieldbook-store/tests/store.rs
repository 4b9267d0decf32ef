//! The store against a real SQLite file: ordering, search, writes with their outbox rows,
//! durability across reopening, and refusals that leave nothing behind.

use chrono::{DateTime, Duration, Utc};
use fieldbook_demo::{DemoOptions, generate};
use fieldbook_domain::*;
use fieldbook_store::{DayView, LIST_ORDER, ListQuery, NewAnswer, Store, StoreError};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap().with_timezone(&Utc)
}

/// A store file holding the demo data of technician 1, and that technician's work orders.
fn demo_store(dir: &tempfile::TempDir, work_orders: usize) -> (Store, fieldbook_demo::DemoData) {
    let data = generate(&DemoOptions::new(work_orders, now()));
    let mut store = Store::open(dir.path().join("device.sqlite")).unwrap();
    store.import(&data.for_technician(data.technicians[0].id)).unwrap();
    (store, data)
}

fn all(limit: u32) -> ListQuery {
    ListQuery { limit, ..ListQuery::default() }
}

/// Counts every row a user write can add.
fn footprint(store: &Store) -> [i64; 7] {
    ["inspection_results", "fault_records", "part_usages", "photos", "sign_offs", "notes", "outbox"]
        .map(|t| store.count(&format!("SELECT COUNT(*) FROM {t}")).unwrap())
}

/// Moves an assigned work order of the device to on-site through the technician's steps.
fn on_site_work_order(store: &mut Store, with_template: bool) -> WorkOrder {
    let (rows, _) =
        store.list_work_orders(&ListQuery { statuses: vec![WorkOrderStatus::Assigned], ..all(10_000) }).unwrap();
    let row =
        rows.into_iter().find(|r| r.work_order.template_id.is_some() == with_template).expect("an assigned work order");
    store.change_status(row.work_order.id, StatusAction::SetOff, now()).unwrap();
    store.change_status(row.work_order.id, StatusAction::Arrive, now()).unwrap()
}

#[test]
fn pragmas_make_every_commit_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = demo_store(&dir, 10);
    assert_eq!(store.count("SELECT synchronous FROM pragma_synchronous").unwrap(), 2, "FULL");
    assert_eq!(store.count("SELECT foreign_keys FROM pragma_foreign_keys").unwrap(), 1);
    assert_eq!(store.count("SELECT journal_mode = 'wal' FROM pragma_journal_mode").unwrap(), 1);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn the_list_is_grouped_by_status_then_sorted_by_nearest_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (store, data) = demo_store(&dir, 600);
    let page = store.list_page(&all(10_000)).unwrap();
    let rows = &page.rows;
    assert_eq!(page.total() as usize, data.for_technician(data.technicians[0].id).work_orders.len());
    assert_eq!(rows.len(), page.total() as usize);
    // The groups come in LIST_ORDER, none empty, and the rows follow them.
    let ranks: Vec<usize> =
        page.groups.iter().map(|(status, _)| LIST_ORDER.iter().position(|s| s == status).unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{:?}", page.groups);
    assert!(page.groups.len() >= 3 && page.groups.iter().all(|(_, count)| *count > 0), "{:?}", page.groups);
    let mut at = 0;
    for (status, count) in &page.groups {
        let group = &rows[at..at + *count as usize];
        assert!(group.iter().all(|r| r.work_order.status == *status), "{status:?}");
        let dues: Vec<_> = group.iter().map(|r| r.work_order.next_due()).collect();
        if status.is_open() {
            // A returned visit has met its deadlines; such orders follow the ones still due.
            let key = |due: &Option<chrono::DateTime<chrono::Utc>>| (due.is_none(), *due);
            assert!(dues.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "{status:?} by nearest deadline");
        } else {
            assert!(dues.iter().all(Option::is_none));
            assert!(
                group.windows(2).all(|w| w[0].work_order.reported_at >= w[1].work_order.reported_at),
                "newest first"
            );
        }
        at += *count as usize;
    }
    let first_closed = rows.iter().position(|r| !r.work_order.status.is_open()).unwrap();
    assert!(rows[first_closed..].iter().all(|r| !r.work_order.status.is_open()), "closed work orders come last");
    // Pages of any size put together are the whole list, each page answering the same counts.
    for size in [1, 7, 250] {
        let mut joined = Vec::new();
        loop {
            let page_n = store.list_page(&ListQuery { offset: joined.len() as u32, ..all(size) }).unwrap();
            assert_eq!(page_n.groups, page.groups);
            if page_n.rows.is_empty() {
                break;
            }
            assert!(page_n.rows.len() <= size as usize);
            joined.extend(page_n.rows.into_iter().map(|r| r.work_order.id));
        }
        assert_eq!(joined, rows.iter().map(|r| r.work_order.id).collect::<Vec<_>>(), "pages of {size}");
    }
}

#[test]
fn the_day_views_split_the_list_by_the_end_of_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = demo_store(&dir, 600);
    let (everything, _) = store.list_work_orders(&all(10_000)).unwrap();
    let ends = now() + chrono::Duration::hours(5);
    let view = |day: DayView| {
        let (rows, total) = store.list_work_orders(&ListQuery { day: Some((day, ends)), ..all(10_000) }).unwrap();
        assert_eq!(rows.len(), total as usize);
        rows.into_iter().map(|r| r.work_order).collect::<Vec<_>>()
    };
    let (today, upcoming, done) = (view(DayView::Today), view(DayView::Upcoming), view(DayView::Done));
    assert!(!today.is_empty() && !upcoming.is_empty() && !done.is_empty());
    assert_eq!(today.len() + upcoming.len() + done.len(), everything.len(), "every work order is in exactly one view");
    let before_end = |at: Option<chrono::DateTime<chrono::Utc>>| at.is_some_and(|at| at < ends);
    for w in &today {
        let underway = matches!(w.status, WorkOrderStatus::EnRoute | WorkOrderStatus::OnSite);
        assert!(
            w.status.is_open() && (underway || before_end(w.next_due()) || before_end(w.scheduled_for)),
            "{}",
            w.number
        );
    }
    for w in &upcoming {
        assert!(w.status.is_open() && !matches!(w.status, WorkOrderStatus::EnRoute | WorkOrderStatus::OnSite));
        assert!(!before_end(w.next_due()) && !before_end(w.scheduled_for), "{}", w.number);
    }
    assert!(done.iter().all(|w| !w.status.is_open()));
    // A view combines with search and filters, and its pages keep the list's order.
    let search = ListQuery { search: Some(today[0].number.clone()), day: Some((DayView::Today, ends)), ..all(10) };
    assert_eq!(store.list_work_orders(&search).unwrap().0[0].work_order.id, today[0].id);
    assert!(upcoming.len() >= 3, "{}", upcoming.len());
    let page = store.list_page(&ListQuery { day: Some((DayView::Upcoming, ends)), offset: 1, ..all(2) }).unwrap();
    let expected: Vec<_> = upcoming[1..3].iter().map(|w| w.id).collect();
    assert_eq!(page.rows.iter().map(|r| r.work_order.id).collect::<Vec<_>>(), expected);
}

#[test]
fn search_finds_customer_site_asset_and_number_in_either_language() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = demo_store(&dir, 300);
    let (rows, _) = store.list_work_orders(&all(10_000)).unwrap();
    let sample = &rows[7];
    let search = |text: &str| {
        let (found, total) = store.list_work_orders(&ListQuery { search: Some(text.into()), ..all(10_000) }).unwrap();
        assert_eq!(found.len(), total as usize);
        found
    };
    for text in [
        sample.work_order.number.clone(),
        sample.customer_name.clone(),
        sample.site_name.clone(),
        sample.asset.as_ref().unwrap().serial.clone(),
    ] {
        let found = search(&text);
        assert!(found.iter().any(|r| r.work_order.id == sample.work_order.id), "searching {text}");
        assert!(found.len() < rows.len() || text == sample.customer_name, "searching {text} narrows the list");
    }
    // Case does not matter for Latin text; Chinese substrings match.
    let hotel = search("HARBOUR view");
    assert!(!hotel.is_empty() && hotel.iter().all(|r| r.customer_name == "Harbour View Hotel"));
    let hospital = search("人民医院");
    assert!(!hospital.is_empty() && hospital.iter().all(|r| r.customer_name.contains("人民医院")));
    // LIKE wildcards are searched for literally.
    assert!(search("%").is_empty());
    assert!(search("_").is_empty());
    assert_eq!(search("   ").len(), rows.len(), "a blank search is no filter");
}

#[test]
fn filters_by_status_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = demo_store(&dir, 300);
    let query = ListQuery {
        statuses: vec![WorkOrderStatus::Assigned, WorkOrderStatus::OnSite],
        kinds: vec![WorkOrderKind::Repair],
        ..all(10_000)
    };
    let (rows, total) = store.list_work_orders(&query).unwrap();
    assert!(total > 0);
    for row in rows {
        assert!(matches!(row.work_order.status, WorkOrderStatus::Assigned | WorkOrderStatus::OnSite));
        assert_eq!(row.work_order.kind, WorkOrderKind::Repair);
    }
}

#[test]
fn every_user_write_lands_with_exactly_one_outbox_row_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = demo_store(&dir, 60);
    let before = store.outbox_len().unwrap();
    let wo = on_site_work_order(&mut store, true);
    let answer = store
        .record_answer(
            &NewAnswer {
                work_order_id: wo.id,
                item_key: "test.cabinet_temp".into(),
                answer: Answer::Reading(61.5),
                note: "风扇停转".into(),
                supersedes: None,
            },
            now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.assessment, Assessment::Abnormal, "61.5 °C is above the 45 °C limit");
    let note = store.add_note(wo.id, None, "客户要求下周复查", now()).unwrap();
    assert_eq!(store.outbox_len().unwrap(), before + 4, "set off, arrive, answer, note");
    let outbox = store.outbox(100).unwrap();
    for id in [answer.id.to_string(), note.id.to_string()] {
        assert_eq!(outbox.iter().filter(|e| e.entity_id == id).count(), 1);
    }
    drop(store);

    let store = Store::open(dir.path().join("device.sqlite")).unwrap();
    let visit = store.visit(wo.id).unwrap();
    assert_eq!(visit.work_order.status, WorkOrderStatus::OnSite);
    assert_eq!(visit.work_order.arrived_at, Some(now()));
    assert_eq!(visit.results, vec![answer]);
    assert_eq!(visit.notes, vec![note]);
}

#[test]
fn refused_writes_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = demo_store(&dir, 60);
    let wo = on_site_work_order(&mut store, true);
    let before = footprint(&store);
    let answer = |key: &str, answer: Answer| NewAnswer {
        work_order_id: wo.id,
        item_key: key.into(),
        answer,
        note: String::new(),
        supersedes: None,
    };

    let err =
        store.record_answer(&answer("look.not_in_template", Answer::Check(CheckOutcome::Normal)), now()).unwrap_err();
    assert!(matches!(err, StoreError::Rule(RuleViolation::UnknownChecklistItem(_))), "{err}");
    let err = store.record_answer(&answer("test.cabinet_temp", Answer::Text("hot".into())), now()).unwrap_err();
    assert!(err.to_string().contains("numeric reading"), "{err}");
    let err = store.record_answer(&answer("test.meter_start", Answer::Text(" ".into())), now()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(InvalidInput::EmptyText { .. })), "{err}");

    let part = PartDraft {
        part_number: "HK-PSU-12V2A".into(),
        name: "电源适配器".into(),
        quantity: 0,
        serial: String::new(),
        billing: PartBilling::Warranty,
        old_part_returned: true,
        needs_customer_approval: false,
        supersedes: None,
        billing_reason: None,
    };
    let err = store.record_part(wo.id, &part, now()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(InvalidInput::QuantityNotPositive(0))), "{err}");
    let err = store.record_part(wo.id, &PartDraft { quantity: -3, ..part.clone() }, now()).unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");

    let fault = FaultDraft {
        symptom: String::new(),
        cause: String::new(),
        action: "重启".into(),
        result: String::new(),
        category: String::new(),
        started_at: None,
        ended_at: None,
        loaner_provided_at: None,
        supersedes: None,
    };
    let err = store.record_fault(wo.id, &fault, now()).unwrap_err();
    assert!(err.to_string().contains("symptom is required"), "{err}");

    let signature = b"not a drawn signature".to_vec();
    let draft = SignOffDraft {
        signer_name: "王经理".into(),
        opinion: String::new(),
        satisfaction: 9,
        signature: BlobId::of_bytes(&signature),
        strokes: None,
    };
    let err = store.sign_off(wo.id, &draft, &signature, None, now()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(InvalidInput::SatisfactionOutOfRange(9))), "{err}");
    let err = store
        .sign_off(wo.id, &SignOffDraft { satisfaction: 5, ..draft.clone() }, b"other bytes", None, now())
        .unwrap_err();
    assert!(err.to_string().contains("SHA-256"), "{err}");
    let err = store.sign_off(wo.id, &SignOffDraft { satisfaction: 5, ..draft }, &signature, None, now()).unwrap_err();
    assert!(matches!(&err, StoreError::Rule(RuleViolation::Incomplete(missing)) if !missing.is_empty()), "{err}");

    let err = store.add_note(WorkOrderId::new(), None, "x", now()).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    let err = store.change_status(wo.id, StatusAction::SetOff, now()).unwrap_err();
    assert!(matches!(err, StoreError::Rule(RuleViolation::RefusedTransition { .. })), "{err}");
    let err = store.change_status(wo.id, StatusAction::Complete, now()).unwrap_err();
    assert!(matches!(err, StoreError::Rule(RuleViolation::Incomplete(_))), "{err}");

    assert_eq!(footprint(&store), before, "no refused write left a row behind");
    assert_eq!(store.work_order(wo.id).unwrap().status, WorkOrderStatus::OnSite);
}

#[test]
fn a_correction_must_name_a_record_of_the_same_work_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = demo_store(&dir, 300);
    let first = on_site_work_order(&mut store, true);
    let second = on_site_work_order(&mut store, true);
    let new = |wo: WorkOrderId, supersedes| NewAnswer {
        work_order_id: wo,
        item_key: "look.four_no_dust".into(),
        answer: Answer::Check(CheckOutcome::Abnormal),
        note: String::new(),
        supersedes,
    };
    let original = store.record_answer(&new(first.id, None), now()).unwrap();
    let err = store.record_answer(&new(second.id, Some(original.id)), now()).unwrap_err();
    assert!(matches!(err, StoreError::Rule(RuleViolation::SupersedesForeignRecord(_))), "{err}");
    let fix = store.record_answer(&new(first.id, Some(original.id)), now() + Duration::minutes(1)).unwrap();
    let visit = store.visit(first.id).unwrap();
    assert_eq!(visit.results.len(), 2, "the original stays");
    assert_eq!(visit.current_results()["look.four_no_dust"].id, fix.id);
}

#[test]
fn a_whole_visit_completes_at_sign_off_and_then_refuses_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = demo_store(&dir, 60);
    let wo = on_site_work_order(&mut store, true);
    let template = store.template(wo.template_id.unwrap()).unwrap().unwrap();
    for item in &template.items {
        let answer = match &item.kind {
            ItemKind::Check => Answer::Check(CheckOutcome::Normal),
            ItemKind::Reading { min, .. } => Answer::Reading(min.unwrap_or(1.0)),
            ItemKind::Text => Answer::Text("1234.5 kWh".into()),
            ItemKind::Photo => Answer::PhotoAttached,
        };
        let new = NewAnswer {
            work_order_id: wo.id,
            item_key: item.key.clone(),
            answer,
            note: String::new(),
            supersedes: None,
        };
        store.record_answer(&new, now()).unwrap();
        if item.photo_required || matches!(item.kind, ItemKind::Photo) {
            let photo = format!("photo of {}", item.key).into_bytes();
            store.attach_photo(wo.id, Some(&item.key), "现场照片", &photo, now(), now()).unwrap();
            // The same photo twice is stored once and queued once.
            store.attach_photo(wo.id, Some(&item.key), "现场照片", &photo, now(), now()).unwrap();
        }
    }
    let photos = store.count("SELECT COUNT(*) FROM photos").unwrap();
    assert_eq!(store.count("SELECT COUNT(*) FROM outbox WHERE entity = 'photo'").unwrap(), photos);
    let signature = fieldbook_demo::DEMO_SIGNATURE_PNG;
    let draft = SignOffDraft {
        signer_name: "王经理".into(),
        opinion: "处理及时".into(),
        satisfaction: 5,
        signature: BlobId::of_bytes(signature),
        strokes: None,
    };
    let (sign_off, completed) = store.sign_off(wo.id, &draft, signature, None, now()).unwrap();
    assert_eq!(completed.status, WorkOrderStatus::Completed);
    assert_eq!(store.blob(&sign_off.signature).unwrap().as_deref(), Some(signature));
    let before = footprint(&store);
    let err = store
        .record_answer(
            &NewAnswer {
                work_order_id: wo.id,
                item_key: "look.four_no_dust".into(),
                answer: Answer::Check(CheckOutcome::Abnormal),
                note: String::new(),
                supersedes: None,
            },
            now(),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Rule(RuleViolation::VisitLocked(_))), "{err}");
    assert!(store.sign_off(wo.id, &draft, signature, None, now()).is_err());
    assert_eq!(footprint(&store), before);
    let visit = store.visit(wo.id).unwrap();
    assert_eq!(visit.missing_for_completion(), vec![]);
    assert_eq!(visit.content_hash(), store.visit(wo.id).unwrap().content_hash());
}

#[test]
fn importing_the_same_batch_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, data) = demo_store(&dir, 200);
    let before = footprint(&store);
    let count = store.count("SELECT COUNT(*) FROM work_orders").unwrap();
    store.import(&data.for_technician(data.technicians[0].id)).unwrap();
    assert_eq!(footprint(&store), before);
    assert_eq!(store.count("SELECT COUNT(*) FROM work_orders").unwrap(), count);
    assert_eq!(store.outbox_len().unwrap(), 0, "imported data is not sent back");
}

#[test]
fn every_change_is_stamped_later_than_the_last_even_when_the_wall_clock_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = demo_store(&dir, 60);
    let wo = on_site_work_order(&mut store, true);
    // The device's clock is set back an hour halfway through.
    store.add_note(wo.id, None, "一", now()).unwrap();
    store.add_note(wo.id, None, "二", now() - Duration::hours(1)).unwrap();
    drop(store);
    let mut store = Store::open(dir.path().join("device.sqlite")).unwrap();
    store.add_note(wo.id, None, "三", now() - Duration::hours(1)).unwrap();
    let stamps: Vec<Hlc> = store.outbox(100).unwrap().iter().map(|e| e.hlc.expect("stamped")).collect();
    assert_eq!(stamps.len(), 5, "set off, arrive, three notes");
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "strictly increasing across a reopen: {stamps:?}");
    assert!(stamps.iter().all(|s| s.node == stamps[0].node), "one node per device");
}

#[test]
fn pending_changes_know_their_work_order_and_whether_they_were_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = demo_store(&dir, 60);
    let wo = on_site_work_order(&mut store, true);
    let photo = b"\xff\xd8\xff not really a jpeg".repeat(10);
    store.attach_photo(wo.id, None, "", &photo, now(), now()).unwrap();
    assert_eq!(store.pending_blob_bytes().unwrap(), photo.len() as u64);
    let pending = store.outbox_of(wo.id).unwrap();
    assert_eq!(pending.len(), 3);
    assert!(pending.iter().all(|e| e.work_order_id == wo.id.to_string() && e.sent_at.is_none()));
    store.mark_sent(pending[1].seq, now()).unwrap();
    let sent: Vec<bool> = store.outbox_of(wo.id).unwrap().iter().map(|e| e.sent_at.is_some()).collect();
    assert_eq!(sent, vec![true, true, false]);
}

#[test]
fn fetched_bytes_are_kept_only_when_they_match_their_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = demo_store(&dir, 10);
    let bytes = b"photo bytes".to_vec();
    let id = BlobId::of_bytes(&bytes);
    let err = store.put_fetched_blob(&id, b"other bytes", now()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert_eq!(store.blob(&id).unwrap(), None);
    store.put_fetched_blob(&id, &bytes, now()).unwrap();
    assert_eq!(store.blob(&id).unwrap(), Some(bytes));
}

#[test]
fn an_older_device_database_gains_sync_state_on_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite");
    let (mut store, _) = demo_store(&dir, 60);
    let wo = on_site_work_order(&mut store, false);
    drop(store);
    // As the previous version left it: no work order column, no stamps.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP INDEX outbox_by_work_order; ALTER TABLE outbox DROP COLUMN work_order_id;
             ALTER TABLE outbox DROP COLUMN sent_at; ALTER TABLE outbox DROP COLUMN hlc;
             DROP INDEX conflicts_by_work_order; ALTER TABLE conflicts DROP COLUMN work_order_id;
             DROP TABLE corrective_requests; DROP INDEX work_orders_for_list;
             ALTER TABLE work_orders DROP COLUMN scheduled_for; DROP TABLE signed_reports; DROP TABLE thumbnails;
             CREATE INDEX work_orders_by_due ON work_orders (next_due IS NULL, next_due, reported_at DESC);
             CREATE INDEX work_orders_by_status ON work_orders (status, next_due);
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let pending = store.outbox_of(wo.id).unwrap();
    assert_eq!(pending.len(), 2, "the set-off and arrival found by their work order");
    assert!(pending.iter().all(|e| e.hlc.is_none()), "old changes have no stamp; sync stamps them by time");
    // The appointment column the day views read is filled from the kept bodies, to the millisecond.
    let (rows, _) = store.list_work_orders(&all(10_000)).unwrap();
    let scheduled: Vec<_> = rows.iter().filter_map(|r| r.work_order.scheduled_for).collect();
    assert!(!scheduled.is_empty(), "the demo has appointments");
    let stored = store.count("SELECT COUNT(*) FROM work_orders WHERE scheduled_for IS NOT NULL").unwrap();
    assert_eq!(stored as usize, scheduled.len());
    for row in rows.iter().filter(|r| r.work_order.scheduled_for.is_some()) {
        let at = row.work_order.scheduled_for.unwrap().timestamp_millis();
        let sql = format!("SELECT scheduled_for FROM work_orders WHERE id = '{}'", row.work_order.id);
        assert_eq!(store.count(&sql).unwrap(), at, "{}", row.work_order.number);
    }
}

/// How many secondary indexes the bulk tables have.
fn bulk_indexes(store: &Store) -> i64 {
    store
        .count(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
              AND tbl_name IN ('work_orders', 'inspection_results')",
        )
        .unwrap()
}

#[test]
fn a_first_sync_builds_its_indexes_once_and_a_crash_mid_way_leaves_none_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite");
    let mut store = Store::open(&path).unwrap();
    let all = bulk_indexes(&store);
    assert!(all >= 3, "{all}");
    // Into an empty store the secondary indexes are dropped for the pull...
    store.set_bulk_pull(true).unwrap();
    assert_eq!(bulk_indexes(&store), 0);
    let data = generate(&DemoOptions::new(40, now()));
    store.import(&data.for_technician(data.technicians[0].id)).unwrap();
    // ...and the app killed before the pull ends: the next open builds them again.
    drop(store);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(bulk_indexes(&store), all);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let (rows, total) = store.list_work_orders(&ListQuery { search: Some("WO-".into()), ..all_rows() }).unwrap();
    assert_eq!(rows.len() as u32, total);
    // A store that holds work keeps its indexes through a pull.
    store.set_bulk_pull(true).unwrap();
    assert_eq!(bulk_indexes(&store), all);
    store.set_bulk_pull(false).unwrap();
    assert_eq!(bulk_indexes(&store), all);
}

#[test]
fn a_bulk_pull_leaves_its_pages_in_the_log_and_a_thread_of_its_own_copies_them_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite");
    let mut store = Store::open(&path).unwrap();
    let file_size = || std::fs::metadata(&path).unwrap().len();
    store.set_bulk_pull(true).unwrap();
    let data = generate(&DemoOptions { detailed_history: 4_000, ..DemoOptions::new(6_000, now()) });
    let batch = data.for_technician(data.technicians[0].id);
    store.import(&batch).unwrap();
    let pages = store.count("PRAGMA page_count").unwrap();
    // More than SQLite's checkpoint threshold (1,000 pages) was committed, yet nothing was
    // copied into the database file while the pull ran.
    assert!(pages > 1_500, "{pages} pages");
    let before = file_size();
    assert!(before < 1_000 * 4096, "{before} bytes in the database file mid-pull");
    // After the pull a thread of its own copies the log into the file; the store does not
    // wait for it (nothing here writes or checkpoints).
    store.set_bulk_pull(false).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while file_size() < pages as u64 * 4096 {
        assert!(std::time::Instant::now() < deadline, "not copied: {} of {} bytes", file_size(), pages * 4096);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Everything reads the same, before and after reopening.
    let (rows, total) = store.list_work_orders(&all_rows()).unwrap();
    assert_eq!(total as usize, batch.work_orders.len());
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.list_work_orders(&all_rows()).unwrap().0.len(), rows.len());
    let results = store.count("SELECT COUNT(*) FROM inspection_results").unwrap();
    assert_eq!(results as usize, batch.results.len());
}

#[test]
fn records_read_back_whole_from_their_columns_and_bodies_old_and_new() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = demo_store(&dir, 60);
    let work_order = on_site_work_order(&mut store, true);
    let visit = store.visit(work_order.id).unwrap();
    let template = visit.template.clone().unwrap();
    let item = &template.items[0];
    let answer = |value, note: &str, supersedes| NewAnswer {
        work_order_id: work_order.id,
        item_key: item.key.clone(),
        answer: Answer::Check(value),
        note: note.into(),
        supersedes,
    };
    let first = store.record_answer(&answer(CheckOutcome::Abnormal, "异响 rattle", None), now()).unwrap();
    let second =
        store.record_answer(&answer(CheckOutcome::Normal, "", Some(first.id)), now() + Duration::minutes(1)).unwrap();
    // Writes a record's body whole, as earlier versions stored it.
    let store_whole = |table: &str, id: &str, body: String| {
        let conn = rusqlite::Connection::open(dir.path().join("device.sqlite")).unwrap();
        conn.execute(&format!("UPDATE {table} SET body = ?1 WHERE id = ?2"), [body.as_str(), id]).unwrap();
    };
    let results = store.visit(work_order.id).unwrap().results;
    assert_eq!(results, vec![first.clone(), second.clone()]);
    // A body holds only what its columns do not.
    let body_has_id =
        store.count(&format!("SELECT COUNT(*) FROM inspection_results WHERE body LIKE '%{}%'", first.id)).unwrap();
    assert_eq!(body_has_id, 0);
    // A result stored whole, as earlier versions did, reads the same.
    store_whole("inspection_results", &first.id.to_string(), serde_json::to_string(&first).unwrap());
    assert_eq!(store.visit(work_order.id).unwrap().results, vec![first, second]);

    // Work orders too: the list, the visit and the asset's history give the whole record,
    // from a slim body or from one stored whole.
    let read_all = |store: &Store| {
        let visit = store.visit(work_order.id).unwrap().work_order;
        let listed = store.list_work_orders(&all_rows()).unwrap().0;
        let listed = listed.into_iter().find(|r| r.work_order.id == work_order.id).unwrap().work_order;
        let history = store.asset_history(work_order.asset_id.unwrap(), fieldbook_domain::WorkOrderId::new(), 100);
        let history = history.unwrap().into_iter().find(|w| w.id == work_order.id).unwrap();
        (visit, listed, history)
    };
    let (visit, listed, history) = read_all(&store);
    assert_eq!(visit, work_order);
    assert_eq!((&listed, &history), (&work_order, &work_order));
    let slim = store.count(&format!("SELECT COUNT(*) FROM work_orders WHERE body LIKE '%{}%'", work_order.id)).unwrap();
    assert_eq!(slim, 0, "the body leaves the id to its column");
    store_whole("work_orders", &work_order.id.to_string(), serde_json::to_string(&work_order).unwrap());
    assert_eq!(read_all(&store), (work_order.clone(), work_order.clone(), work_order));
}

fn all_rows() -> ListQuery {
    ListQuery { limit: 10_000, ..ListQuery::default() }
}

/// The reference data of a batch (users, policies, customers, sites, assets, templates), as a
/// pulled page brings it beside its work orders.
fn reference_of(batch: &fieldbook_store::ImportBatch) -> fieldbook_store::ImportBatch {
    fieldbook_store::ImportBatch {
        users: batch.users.clone(),
        policies: batch.policies.clone(),
        customers: batch.customers.clone(),
        sites: batch.sites.clone(),
        assets: batch.assets.clone(),
        templates: batch.templates.clone(),
        ..fieldbook_store::ImportBatch::default()
    }
}

/// In a first sync the store checks a page's references itself (SQLite's own checks are off
/// for such pages): a page naming a customer, site, template, assignee or work order that is
/// neither in it nor in the store is refused whole, as SQLite's check refused it, and nothing
/// of it is written; pages after it go on, and the store ends with no reference to nothing.
#[test]
fn a_first_sync_page_naming_nothing_is_refused_whole_and_the_checks_come_back_on() {
    use fieldbook_store::{ImportBatch, PulledChange, PulledRecord};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("device.sqlite")).unwrap();
    let data = generate(&DemoOptions { detailed_history: 40, ..DemoOptions::new(40, now()) });
    let batch = data.for_technician(data.technicians[0].id);
    let reference = reference_of(&batch);
    let with_results = batch.work_orders.iter().find(|w| batch.results.iter().any(|r| r.work_order_id == w.id));
    let with_results = with_results.expect("the demo has answered visits").clone();
    let results_of = |w: &WorkOrder| -> Vec<PulledChange> {
        let results = batch.results.iter().filter(|r| r.work_order_id == w.id);
        results.map(|r| PulledChange::Record(PulledRecord::InspectionResult(r.clone()))).collect()
    };
    let others: Vec<&WorkOrder> = batch.work_orders.iter().filter(|w| w.id != with_results.id).collect();
    let foreign_keys = |store: &Store| store.count("PRAGMA foreign_keys").unwrap();
    let snapshot = |store: &Store| {
        (
            store.count("SELECT COUNT(*) FROM work_orders").unwrap(),
            store.count("SELECT COUNT(*) FROM inspection_results").unwrap(),
            store.pull_cursor().unwrap(),
        )
    };
    store.set_bulk_pull(true).unwrap();
    // The first page: one work order; its answers come on a later page.
    let first = [PulledChange::WorkOrder(Box::new(with_results.clone()))];
    store.apply_pulled(&reference, &first, 1, now()).unwrap();
    assert_eq!(foreign_keys(&store), 1);
    let before = snapshot(&store);
    let named_nothing = |change: &dyn Fn(&mut WorkOrder)| {
        let mut w = others[0].clone();
        change(&mut w);
        vec![PulledChange::WorkOrder(Box::new(others[1].clone())), PulledChange::WorkOrder(Box::new(w))]
    };
    let mut answer_to_nothing = results_of(&with_results);
    if let Some(PulledChange::Record(PulledRecord::InspectionResult(r))) = answer_to_nothing.last_mut() {
        r.id = ResultId::new();
        r.work_order_id = WorkOrderId::new();
    }
    let refused: Vec<(&str, Vec<PulledChange>)> = vec![
        ("customer", named_nothing(&|w| w.customer_id = CustomerId::new())),
        ("site", named_nothing(&|w| w.site_id = SiteId::new())),
        ("asset", named_nothing(&|w| w.asset_id = Some(AssetId::new()))),
        ("template", named_nothing(&|w| w.template_id = Some(TemplateId::new()))),
        ("assignee", named_nothing(&|w| w.assignee = Some(UserId::new()))),
        ("work order", answer_to_nothing),
    ];
    for (what, page) in refused {
        let err = store.apply_pulled(&reference, &page, 2, now()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{what}: {err}");
        assert_eq!(snapshot(&store), before, "a page naming an unknown {what} wrote nothing");
        assert_eq!(foreign_keys(&store), 1, "SQLite's checks are back on after the refused {what} page");
    }
    // A customer whose policy is nowhere is refused too.
    let mut orphan = reference.clone();
    orphan.customers[0].policy_id = fieldbook_domain::PolicyId::new();
    let err = store.apply_pulled(&orphan, &[], 2, now()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert_eq!(snapshot(&store), before);
    // Answers to a work order an earlier page wrote, with no reference data at all, go in.
    store.apply_pulled(&ImportBatch::default(), &results_of(&with_results), 2, now()).unwrap();
    let rest: Vec<PulledChange> = others.iter().map(|w| PulledChange::WorkOrder(Box::new((*w).clone()))).collect();
    store.apply_pulled(&reference, &rest, 3, now()).unwrap();
    store.set_bulk_pull(false).unwrap();
    assert_eq!(store.count("SELECT COUNT(*) FROM work_orders").unwrap() as usize, batch.work_orders.len());
    assert_eq!(
        store.count("SELECT COUNT(*) FROM inspection_results").unwrap() as usize,
        results_of(&with_results).len()
    );
    assert_eq!(store.count("SELECT COUNT(*) FROM pragma_foreign_key_check").unwrap(), 0);
    assert_eq!(foreign_keys(&store), 1);
}

/// Signing out while a first sync's pull runs (the pull goes on in the background): the
/// indexes it dropped are still built at its end, and its later pages no longer count on the
/// work orders earlier pages wrote, which are gone; answers to them are refused.
#[test]
fn signing_out_mid_way_through_a_first_sync_leaves_no_answer_to_nothing_and_no_index_missing() {
    use fieldbook_store::{ImportBatch, PulledChange, PulledRecord};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("device.sqlite")).unwrap();
    let all = bulk_indexes(&store);
    let data = generate(&DemoOptions { detailed_history: 40, ..DemoOptions::new(40, now()) });
    let batch = data.for_technician(data.technicians[0].id);
    let reference = reference_of(&batch);
    let answered = batch.work_orders.iter().find(|w| batch.results.iter().any(|r| r.work_order_id == w.id)).unwrap();
    let answers: Vec<PulledChange> = batch
        .results
        .iter()
        .filter(|r| r.work_order_id == answered.id)
        .map(|r| PulledChange::Record(PulledRecord::InspectionResult(r.clone())))
        .collect();
    store.set_bulk_pull(true).unwrap();
    store.apply_pulled(&reference, &[PulledChange::WorkOrder(Box::new(answered.clone()))], 1, now()).unwrap();
    store.forget_user_data().unwrap();
    assert!(store.apply_pulled(&ImportBatch::default(), &answers, 2, now()).is_err());
    assert_eq!(store.count("SELECT COUNT(*) FROM inspection_results").unwrap(), 0);
    store.set_bulk_pull(false).unwrap();
    assert_eq!(bulk_indexes(&store), all);
    assert_eq!(store.count("SELECT COUNT(*) FROM pragma_foreign_key_check").unwrap(), 0);
}

/// The bodies a sync makes on the thread that read a page are written as the store would have
/// made them while writing it, and a body made for another change is not used.
#[test]
fn a_page_written_with_bodies_made_ahead_stores_what_the_store_makes_itself() {
    use fieldbook_store::{PreparedBodies, PulledChange, PulledRecord};
    let dir = tempfile::tempdir().unwrap();
    let data = generate(&DemoOptions { detailed_history: 40, ..DemoOptions::new(40, now()) });
    let batch = data.for_technician(data.technicians[0].id);
    let reference = reference_of(&batch);
    let mut changes: Vec<PulledChange> =
        batch.work_orders.iter().map(|w| PulledChange::WorkOrder(Box::new(w.clone()))).collect();
    changes.extend(batch.results.iter().map(|r| PulledChange::Record(PulledRecord::InspectionResult(r.clone()))));
    assert!(batch.results.len() > 10, "the demo has answers");
    let mut reversed = changes.clone();
    reversed.reverse();
    let made_ahead = PreparedBodies::of(&changes);
    let made_for_others = PreparedBodies::of(&reversed);
    let mut written = Vec::new();
    for (name, bodies) in [("itself", None), ("ahead", Some(&made_ahead)), ("for others", Some(&made_for_others))] {
        let path = dir.path().join(format!("{name}.sqlite"));
        let mut store = Store::open(&path).unwrap();
        match bodies {
            None => store.apply_pulled(&reference, &changes, 1, now()).unwrap(),
            Some(bodies) => store.apply_pulled_prepared(&reference, &changes, bodies, 1, now()).unwrap(),
        }
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let rows = |sql: &str| -> Vec<(String, String)> {
            let mut statement = conn.prepare(sql).unwrap();
            statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
        };
        let stored = (
            rows("SELECT id, body FROM work_orders ORDER BY id"),
            rows("SELECT id, body FROM inspection_results ORDER BY id"),
        );
        assert_eq!(stored.0.len(), batch.work_orders.len(), "{name}");
        assert_eq!(stored.1.len(), batch.results.len(), "{name}");
        written.push((name, stored));
    }
    let (_, by_itself) = &written[0];
    for (name, stored) in &written[1..] {
        assert!(stored == by_itself, "the bodies made {name} differ from the store's own");
    }
}
