//! Devices syncing with the real server on a loopback port, each with its own store file.

use fieldbook_domain::evidence::DeviceKey;

use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_protocol::WorkOrderFilter;
use fieldbook_server::Config;
use fieldbook_server_db::SupervisorChange;
use fieldbook_store::NewAnswer;
use fieldbook_sync::{SyncClient, plan, sync_once};

mod support;
use support::*;

#[tokio::test]
async fn a_whole_visit_done_offline_reaches_the_server_and_a_second_device_exactly() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    let report = tablet.sync().await;
    assert!(report.pulled > 0);
    let on_server = server
        .db
        .work_orders(&WorkOrderFilter { assignee: Some(tablet.user), ..Default::default() }, None)
        .await
        .unwrap();
    let mut local: Vec<_> = tablet.work_orders().into_iter().map(|w| w.id).collect();
    let mut remote: Vec<_> = on_server.iter().map(|w| w.id).collect();
    local.sort();
    remote.sort();
    assert_eq!(local, remote, "the device holds exactly its technician's work");

    // The visit, offline.
    let wo = tablet.assigned_with_checklist();
    let now = Utc::now();
    {
        let mut store = tablet.store.lock().unwrap();
        store.change_status(wo.id, StatusAction::SetOff, now).unwrap();
        store.change_status(wo.id, StatusAction::Arrive, now).unwrap();
        let template = store.template(wo.template_id.unwrap()).unwrap().unwrap();
        for item in &template.items {
            let answer = match &item.kind {
                ItemKind::Check => Answer::Check(CheckOutcome::Normal),
                ItemKind::Reading { max, .. } => Answer::Reading(max.unwrap_or(10.0) + 5.0),
                ItemKind::Text => Answer::Text("读数 1234.5 kWh 👍".into()),
                ItemKind::Photo => Answer::PhotoAttached,
            };
            store
                .record_answer(
                    &NewAnswer {
                        work_order_id: wo.id,
                        item_key: item.key.clone(),
                        answer,
                        note: String::new(),
                        supersedes: None,
                    },
                    now,
                )
                .unwrap();
            if item.photo_required || matches!(item.kind, ItemKind::Photo) {
                let photo = format!("JPEG bytes of {}", item.key).repeat(3000).into_bytes();
                store.attach_photo(wo.id, Some(&item.key), "现场照片", &photo, now, now).unwrap();
            }
        }
        let signature = fieldbook_demo::DEMO_SIGNATURE_PNG;
        let draft = SignOffDraft {
            signer_name: "王经理".into(),
            opinion: "满意 😊".into(),
            satisfaction: 5,
            signature: BlobId::of_bytes(signature),
            strokes: None,
        };
        store.sign_off(wo.id, &draft, signature, None, now).unwrap();
    }
    let pending = tablet.store.lock().unwrap().outbox_len().unwrap() as usize;
    let report = tablet.sync().await;
    assert_eq!((report.pushed, report.refused), (pending, 0));
    assert!(report.blobs_uploaded >= 2, "photos and the signature went first: {report:?}");
    assert_eq!(tablet.store.lock().unwrap().outbox_len().unwrap(), 0);
    assert_eq!(server.db.work_order(wo.id).await.unwrap().unwrap().status, WorkOrderStatus::Completed);
    // The report the device signed at sign-off is in the server's ledger, intact, exactly as the
    // device keeps it: every answer, photo and the sign-off, signed with the enrolled key.
    let signed = tablet.store.lock().unwrap().signed_reports(wo.id).unwrap();
    assert_eq!(signed.len(), 1);
    let visit = tablet.store.lock().unwrap().visit(wo.id).unwrap();
    assert_eq!(signed[0].document.visit.results, visit.results);
    assert_eq!(signed[0].document.visit.photos, visit.photos);
    assert_eq!(signed[0].document.visit.sign_off, visit.sign_off);
    assert_eq!(server.db.reports(wo.id).await.unwrap().len(), 1);
    let check = server.db.check_report(&signed[0].hash).await.unwrap().unwrap();
    assert_eq!(check.report, signed[0]);
    assert!(check.verdict.is_intact(), "{:?}", check.verdict);

    // A second device of the same technician ends up with the very same visit.
    let phone = device(&server, "tech1").await;
    phone.sync().await;
    let original = tablet.store.lock().unwrap().visit(wo.id).unwrap();
    let copy = phone.store.lock().unwrap().visit(wo.id).unwrap();
    assert_eq!(copy.results.len(), original.results.len());
    assert_eq!(copy.content_hash(), original.content_hash(), "byte-for-byte the same visit on both devices");
    // The photos and the signature came along as bytes, checked against their hashes.
    for photo in &original.photos {
        let on_phone = phone.store.lock().unwrap().blob(&photo.blob).unwrap();
        assert_eq!(on_phone, tablet.store.lock().unwrap().blob(&photo.blob).unwrap(), "photo {}", photo.blob);
    }
    let signature = &original.sign_off.as_ref().unwrap().signature;
    assert!(phone.store.lock().unwrap().blob(signature).unwrap().is_some());
    assert!(phone.store.lock().unwrap().missing_blobs(100).unwrap().is_empty());
    // Syncing again changes nothing.
    let again = tablet.sync().await;
    assert_eq!((again.pushed, again.refused), (0, 0));
}

#[tokio::test]
async fn reassignment_and_cancel_reach_the_device_and_its_losing_changes_become_conflicts() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    tablet.sync().await;
    let tech2 = server.db.user_by_username("tech2").await.unwrap().unwrap().info.id;
    let mut open = tablet.work_orders().into_iter().filter(|w| w.status == WorkOrderStatus::Assigned);
    let (taken, cancelled) = (open.next().unwrap(), open.next().unwrap());

    // Meanwhile, offline: the technician sets off for both.
    {
        let mut store = tablet.store.lock().unwrap();
        store.change_status(cancelled.id, StatusAction::SetOff, Utc::now()).unwrap();
    }
    server.db.change_work_order(taken.id, SupervisorChange::Assign(tech2), Utc::now()).await.unwrap();
    server
        .db
        .change_work_order(cancelled.id, SupervisorChange::Cancel { reason: "客户取消".into() }, Utc::now())
        .await
        .unwrap();
    let report = tablet.sync().await;
    assert_eq!((report.pushed, report.refused), (1, 1), "{report:?}");
    let conflicts = tablet.store.lock().unwrap().conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].entity_id, cancelled.id.to_string());
    assert!(!conflicts[0].message.is_empty());
    let ids: Vec<_> = tablet.work_orders().into_iter().map(|w| (w.id, w.status)).collect();
    assert!(!ids.iter().any(|(id, _)| *id == taken.id), "the reassigned work order left the device");
    assert!(ids.contains(&(cancelled.id, WorkOrderStatus::Cancelled)), "the supervisor's cancel won");
}

#[tokio::test]
async fn a_push_whose_answer_was_lost_is_sent_again_and_stored_once() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    tablet.sync().await;
    let wo = tablet.assigned_with_checklist();
    tablet.store.lock().unwrap().add_note(wo.id, None, "第一条", Utc::now()).unwrap();
    tablet.store.lock().unwrap().add_note(wo.id, None, "第二条", Utc::now()).unwrap();
    // The push reaches the server, but the device dies before it reads the answer.
    let entries = tablet.store.lock().unwrap().outbox(100).unwrap();
    let base: i64 = tablet.store.lock().unwrap().setting("sync.seq_base").unwrap().unwrap().parse().unwrap();
    let mutations: Vec<_> = entries.iter().map(|e| plan::to_mutation(e, base).unwrap()).collect();
    tablet.client.push(&mutations).await.unwrap();
    assert_eq!(tablet.store.lock().unwrap().outbox_len().unwrap(), 2, "not acknowledged");
    // Restarted, it syncs again: the same mutations, answered from what was stored.
    let report = tablet.sync().await;
    assert_eq!((report.pushed, report.refused), (2, 0));
    let phone = device(&server, "tech1").await;
    phone.sync().await;
    let notes = phone.store.lock().unwrap().visit(wo.id).unwrap().notes;
    assert_eq!(notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(), vec!["第一条", "第二条"], "each note once");
}

#[tokio::test]
async fn an_unreachable_server_is_reported_in_plain_words_and_nothing_is_lost() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    tablet.sync().await;
    let wo = tablet.assigned_with_checklist();
    tablet.store.lock().unwrap().add_note(wo.id, None, "离线记录", Utc::now()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nowhere = SyncClient::new(&format!("http://127.0.0.1:{port}"), "token");
    let err = sync_once(&tablet.store, &nowhere, Utc::now()).await.unwrap_err();
    assert!(matches!(err, fieldbook_sync::SyncError::Offline(_)), "{err}");
    assert!(err.to_string().contains("safe on this device"), "{err}");
    assert_eq!(tablet.store.lock().unwrap().outbox_len().unwrap(), 1);
    // No connection was made, so the note never left: it is local only, not "sent".
    let pending = tablet.store.lock().unwrap().outbox_of(wo.id).unwrap();
    assert!(pending.iter().all(|e| e.sent_at.is_none()), "{pending:?}");
    tablet.sync().await;
    assert_eq!(tablet.store.lock().unwrap().outbox_len().unwrap(), 0);
}

#[tokio::test]
async fn a_work_order_taken_away_with_unsent_work_stays_until_that_work_is_sent_then_leaves() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    tablet.sync().await;
    let tech2 = server.db.user_by_username("tech2").await.unwrap().unwrap().info.id;
    let wo = tablet.assigned_with_checklist();
    server.db.change_work_order(wo.id, SupervisorChange::Assign(tech2), Utc::now()).await.unwrap();
    // The technician writes while the pull of the reassignment is under way.
    tablet.store.lock().unwrap().add_note(wo.id, None, "已到现场,等待客户", Utc::now()).unwrap();
    let after = tablet.store.lock().unwrap().pull_cursor().unwrap();
    let page = tablet.client.pull(after, 500).await.unwrap();
    let changes: Vec<_> = page.changes.iter().filter_map(|c| plan::to_pulled(&c.body)).collect();
    let reference = plan::to_reference(page.reference);
    tablet.store.lock().unwrap().apply_pulled(&reference, &changes, page.cursor, chrono::Utc::now()).unwrap();
    assert!(tablet.work_orders().iter().any(|w| w.id == wo.id), "kept while its note is unsent");
    // The next sync sends the note (refused: no longer theirs, kept as a conflict) and then
    // the work order leaves the device.
    let report = tablet.sync().await;
    assert_eq!((report.pushed, report.refused), (1, 1));
    assert!(!tablet.work_orders().iter().any(|w| w.id == wo.id));
    let conflicts = tablet.store.lock().unwrap().conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert!(conflicts[0].payload.contains("已到现场"), "the losing change is kept whole: {}", conflicts[0].payload);
}

#[tokio::test]
async fn between_two_devices_of_one_technician_the_clock_stamp_decides_not_the_wall_clock() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    let phone = device(&server, "tech1").await;
    tablet.sync().await;
    phone.sync().await;
    let wo = tablet.assigned_with_checklist();
    let template = tablet.store.lock().unwrap().template(wo.template_id.unwrap()).unwrap().unwrap();
    let item = template.items.iter().find(|i| matches!(i.kind, ItemKind::Check)).unwrap().key.clone();
    let answer = |device: &Device, outcome: CheckOutcome, wall: chrono::DateTime<Utc>| {
        let mut store = device.store.lock().unwrap();
        if store.work_order(wo.id).unwrap().status == WorkOrderStatus::Assigned {
            store.change_status(wo.id, StatusAction::SetOff, wall).unwrap();
            store.change_status(wo.id, StatusAction::Arrive, wall).unwrap();
        }
        let new = NewAnswer {
            work_order_id: wo.id,
            item_key: item.clone(),
            answer: Answer::Check(outcome),
            note: String::new(),
            supersedes: None,
        };
        store.record_answer(&new, wall).unwrap()
    };
    // The tablet answers first; the phone, whose wall clock runs an hour slow, answers after it
    // has seen the tablet's answer. Its answer is the later one.
    let now = Utc::now();
    let first = answer(&tablet, CheckOutcome::Abnormal, now);
    tablet.sync().await;
    phone.sync().await;
    let second = answer(&phone, CheckOutcome::Normal, now - chrono::Duration::hours(1));
    assert!(second.recorded_at < first.recorded_at, "the phone's wall clock is behind");
    assert!(second.hlc > first.hlc, "but its stamp is later: it saw the tablet's");
    phone.sync().await;
    tablet.sync().await;
    for device in [&tablet, &phone] {
        let visit = device.store.lock().unwrap().visit(wo.id).unwrap();
        assert_eq!(visit.current_results()[item.as_str()].id, second.id);
    }
}

#[tokio::test]
async fn the_parts_catalog_reaches_the_device_and_follows_the_servers_changes() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    let on_server = server.db.parts().await.unwrap();
    assert!(!on_server.is_empty(), "the demo server has a catalog");
    let search = |s: &str| tablet.store.lock().unwrap().search_parts(s, 1000).unwrap();
    assert!(search("").is_empty(), "a new device has no catalog");
    tablet.sync().await;
    assert_eq!(search("").len(), on_server.len());
    let etag = tablet.store.lock().unwrap().setting("parts.etag").unwrap().expect("the catalog's tag is kept");
    assert_eq!(tablet.client.parts(Some(&etag)).await.unwrap(), None, "unchanged: not sent again");

    let added = fieldbook_protocol::PartCatalogEntry {
        part_number: "FB-TS-100".into(),
        name: "温度传感器".into(),
        needs_customer_approval: true,
        unit_price_cents: 12_800,
    };
    let batch = fieldbook_server_db::ReferenceBatch { parts: vec![added], ..Default::default() };
    server.db.import(batch).await.unwrap();
    tablet.sync().await;
    let found = search("FB-TS-100");
    assert_eq!(found, vec![("FB-TS-100".to_owned(), "温度传感器".to_owned(), true, 12_800)]);
    assert_ne!(tablet.store.lock().unwrap().setting("parts.etag").unwrap().unwrap(), etag);
    // A part the server no longer lists leaves the device.
    let kept = vec![found[0].clone()];
    tablet.store.lock().unwrap().replace_parts_catalog(&kept, "\"other\"").unwrap();
    assert_eq!(search(""), kept);
}

#[tokio::test]
async fn a_corrective_work_order_drafted_offline_becomes_one_work_order_waiting_for_dispatch() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    tablet.sync().await;
    let wo = tablet.assigned_with_checklist();
    let now = Utc::now();
    let request = {
        let mut store = tablet.store.lock().unwrap();
        store.change_status(wo.id, StatusAction::SetOff, now).unwrap();
        store.change_status(wo.id, StatusAction::Arrive, now).unwrap();
        let template = store.template(wo.template_id.unwrap()).unwrap().unwrap();
        let key = template.items[0].key.clone();
        // An item the checklist does not have is refused on the device, and nothing is queued.
        let before = store.outbox_len().unwrap();
        assert!(store.request_corrective(wo.id, Some("smell.roses"), FaultLevel::Major, "x", None, now).is_err());
        assert_eq!(store.outbox_len().unwrap(), before);
        store
            .request_corrective(wo.id, Some(&key), FaultLevel::Major, "风扇异响,轴承需更换", Some(tablet.user), now)
            .unwrap()
    };
    assert_eq!(tablet.store.lock().unwrap().corrective_requests(wo.id).unwrap(), vec![request.clone()]);
    let report = tablet.sync().await;
    assert_eq!(report.refused, 0);

    let made = server.db.work_order(request.id).await.unwrap().expect("the server made the work order");
    assert_eq!((made.status, made.assignee), (WorkOrderStatus::New, None), "waits for a supervisor to dispatch");
    assert_eq!((made.customer_id, made.site_id, made.asset_id), (wo.customer_id, wo.site_id, wo.asset_id));
    assert_eq!((made.fault_level, made.symptom.as_str()), (FaultLevel::Major, "风扇异响,轴承需更换"));
    assert!(made.instructions.contains(&wo.number), "names the visit it came from: {}", made.instructions);
    assert!(made.deadlines.respond_by > now && made.deadlines.resolve_by > made.deadlines.respond_by);
    // The same request pushed again (a retry from another session) makes nothing new.
    let all = server.db.work_orders(&WorkOrderFilter::default(), None).await.unwrap();
    let mutation = fieldbook_protocol::Mutation {
        seq: 1,
        id: MutationId::new(),
        hlc: Hlc::at(1),
        op: fieldbook_protocol::MutationOp::CorrectiveRequest(request.clone()),
    };
    let (retry, _) =
        SyncClient::enroll(&server.base, "tech1", PASSWORD, "second tablet", &DeviceKey::generate().public_key())
            .await
            .unwrap();
    retry.push(&[mutation]).await.unwrap();
    assert_eq!(server.db.work_orders(&WorkOrderFilter::default(), None).await.unwrap().len(), all.len());
    // A second device of the technician sees the request on the visit.
    let phone = device(&server, "tech1").await;
    phone.sync().await;
    assert_eq!(phone.store.lock().unwrap().corrective_requests(wo.id).unwrap(), vec![request]);
}

/// Gives tech1's stream `count` more changes: notes on one of their work orders, pushed by
/// another device of theirs.
async fn add_notes(server: &Server, count: usize) {
    let (seeder, _) =
        SyncClient::enroll(&server.base, "tech1", PASSWORD, "seeder", &DeviceKey::generate().public_key())
            .await
            .unwrap();
    let tablet = device(server, "tech1").await;
    tablet.sync().await;
    let work_order = tablet.work_orders()[0].id;
    let mutations: Vec<_> = (0..count)
        .map(|i| fieldbook_protocol::Mutation {
            seq: i as u64 + 1,
            id: MutationId::new(),
            hlc: Hlc::default(),
            op: fieldbook_protocol::MutationOp::Note(Note {
                id: NoteId::new(),
                work_order_id: work_order,
                author: None,
                text: format!("巡检记录 {i}"),
                written_at: Utc::now(),
            }),
        })
        .collect();
    let answer = seeder.push(&mutations).await.unwrap();
    assert_eq!(answer.outcomes.len(), count);
}

/// Every change of the technician's stream, read page by page.
async fn paged(client: &SyncClient) -> Vec<fieldbook_protocol::Change> {
    let (mut changes, mut after) = (Vec::new(), 0);
    loop {
        let page = client.pull(after, 7).await.unwrap();
        changes.extend(page.changes);
        after = page.cursor;
        if !page.more {
            return changes;
        }
    }
}

#[tokio::test]
async fn a_stream_brings_the_same_changes_as_pages_once_each_in_order_in_growing_pages() {
    let server = server().await;
    add_notes(&server, 900).await;
    let tablet = device(&server, "tech1").await;
    let expected = paged(&tablet.client).await;
    assert!(expected.len() > 900, "more changes than the first two pages: {}", expected.len());

    for limit in [5000, 300, 1] {
        let mut pages = tablet.client.pull_stream(0, limit).await.unwrap().expect("the server streams");
        let (mut streamed, mut sizes, mut ends) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(page) = pages.next().await {
            let page = page.unwrap();
            assert_eq!(page.cursor, page.changes.last().unwrap().version, "each page's cursor is its last change");
            sizes.push(page.changes.len());
            ends.push(page.more);
            streamed.extend(page.changes);
        }
        assert_eq!(streamed, expected, "limit {limit}: the same changes, once each, in order");
        assert_eq!(ends.iter().filter(|more| !**more).count(), 1, "limit {limit}: only the last page ends it");
        assert!(!ends.last().unwrap());
        assert!(sizes.iter().all(|n| *n as u32 <= limit), "limit {limit}: {sizes:?}");
        assert_eq!(sizes[0] as u32, limit.min(250), "limit {limit}: {sizes:?}");
        let whole = &sizes[..sizes.len() - 1];
        assert!(whole.windows(2).all(|w| w[1] >= w[0]), "limit {limit}: pages grow: {sizes:?}");
        if limit == 5000 {
            assert_eq!(sizes[1], 375.min(expected.len() - 250), "pages grow by half: {sizes:?}");
        }
    }

    // From a cursor: only what follows it; past the end: one empty, final page.
    let middle = expected[expected.len() / 2].version;
    let mut pages = tablet.client.pull_stream(middle, 5000).await.unwrap().unwrap();
    let mut rest = Vec::new();
    while let Some(page) = pages.next().await {
        rest.extend(page.unwrap().changes);
    }
    assert_eq!(rest, expected[expected.len() / 2 + 1..]);
    let last = expected.last().unwrap().version;
    let mut pages = tablet.client.pull_stream(last, 5000).await.unwrap().unwrap();
    let page = pages.next().await.unwrap().unwrap();
    assert!(page.changes.is_empty() && !page.more && page.cursor == last);
    assert!(pages.next().await.is_none());

    // A page size the server does not serve is refused, as for pages.
    for limit in [0, 5001] {
        match tablet.client.pull_stream(0, limit).await {
            Err(fieldbook_sync::SyncError::Server { status: 400, .. }) => {}
            Err(other) => panic!("limit {limit}: {other}"),
            Ok(_) => panic!("limit {limit} was served"),
        }
    }
}

/// Asserts that `device` holds exactly its technician's work orders as `server` has them, and
/// the 600 notes [`add_notes`] gave them, having pulled each change once.
async fn assert_holds_everything(server: &Server, device: &Device, report: &fieldbook_sync::SyncReport) {
    let mut on_server = server
        .db
        .work_orders(&WorkOrderFilter { assignee: Some(device.user), ..Default::default() }, None)
        .await
        .unwrap();
    on_server.sort_by_key(|w| w.id);
    let mut local = device.work_orders();
    local.sort_by_key(|w| w.id);
    assert!(!local.is_empty());
    assert!(local == on_server, "the device holds its technician's work orders exactly as the server has them");
    let notes = device.store.lock().unwrap().count("SELECT COUNT(*) FROM notes").unwrap();
    assert_eq!(notes, 600);
    assert_eq!(report.pulled, paged(&device.client).await.len(), "each change pulled once");
}

#[tokio::test]
async fn streams_the_server_ends_early_and_a_server_without_streams_both_bring_everything() {
    // A server whose budget is spent at once ends every stream after its first page: the
    // device asks again from its cursor until the last page.
    let hasty = server_with(Config { pull_stream_budget_ms: 0, ..Config::default() }, Streams::Served).await;
    add_notes(&hasty, 600).await;
    let tablet = device(&hasty, "tech1").await;
    let mut pages = tablet.client.pull_stream(0, 5000).await.unwrap().unwrap();
    let first = pages.next().await.unwrap().unwrap();
    assert!(first.more && first.changes.len() == 250);
    assert!(pages.next().await.is_none(), "one page, then the stream ends whole");
    let report = tablet.sync().await;
    assert_holds_everything(&hasty, &tablet, &report).await;

    // A server from before streams: page by page.
    let older = server_with(Config::default(), Streams::Unknown).await;
    add_notes(&older, 600).await;
    let tablet = device(&older, "tech1").await;
    assert!(tablet.client.pull_stream(0, 5000).await.unwrap().is_none());
    let report = tablet.sync().await;
    assert_holds_everything(&older, &tablet, &report).await;
}
