//! A supervisor's device dispatches offline and syncs like a technician's: a call recorded as
//! a work order, assigned, done on the technician's device, returned with a reason, amended and
//! signed again, approved; the ledger holds both signed versions. And a supervisor's step the
//! server refuses is a conflict that the supervisor's device shows and is put right.

use chrono::{Duration, Utc};
use fieldbook_domain::*;
use fieldbook_protocol::WorkOrderFilter;
use fieldbook_store::DispatchCatalog;

mod support;
use support::*;

fn repair_call(catalog: &DispatchCatalog, assignee: UserId) -> CreateWorkOrder {
    let site = catalog.sites.iter().find(|s| catalog.assets.iter().any(|a| a.site_id == s.id)).unwrap();
    let asset = catalog.assets.iter().find(|a| a.site_id == site.id).unwrap();
    CreateWorkOrder {
        customer_id: site.customer_id,
        site_id: site.id,
        asset_id: Some(asset.id),
        contact: Contact { name: "值班长 李工".into(), phone: "0571-88000000".into() },
        kind: WorkOrderKind::Repair,
        fault_level: FaultLevel::Critical,
        symptom: "UPS 主机报警并切换至旁路".into(),
        reported_by: "李工".into(),
        reported_at: None,
        assignee: Some(assignee),
        scheduled_for: None,
        billing: BillingBasis::Contract,
        instructions: "带备用电池模块".into(),
        template_id: None,
    }
}

fn do_visit(tech: &Device, id: WorkOrderId, signer: &str) {
    let now = Utc::now();
    let mut store = tech.store.lock().unwrap();
    let status = store.work_order(id).unwrap().status;
    if status == WorkOrderStatus::Assigned {
        store.change_status(id, StatusAction::SetOff, now).unwrap();
        store.change_status(id, StatusAction::Arrive, now).unwrap();
    }
    let fault = FaultDraft {
        symptom: "旁路告警".into(),
        cause: "电池模块老化".into(),
        action: "更换电池模块".into(),
        result: "恢复正常".into(),
        category: "电源".into(),
        started_at: None,
        ended_at: None,
        loaner_provided_at: None,
        supersedes: None,
    };
    store.record_fault(id, &fault, now).unwrap();
    let signature = fieldbook_demo::DEMO_SIGNATURE_PNG;
    let draft = SignOffDraft {
        signer_name: signer.into(),
        opinion: "同意".into(),
        satisfaction: 5,
        signature: BlobId::of_bytes(signature),
        strokes: None,
    };
    store.sign_off(id, &draft, signature, None, now).unwrap();
}

#[tokio::test]
async fn a_call_dispatched_offline_is_done_returned_amended_and_approved_with_both_versions_in_the_ledger() {
    let server = server().await;
    let boss = device(&server, "supervisor").await;
    let tech = device(&server, "tech1").await;
    boss.sync().await;
    tech.sync().await;

    // The supervisor's device holds the team's work, exactly as the server lists it.
    let mut team: Vec<_> = server
        .db
        .work_orders(&WorkOrderFilter { limit: Some(5000), ..Default::default() }, Some(boss.user))
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    let mut held: Vec<_> = boss.work_orders().into_iter().map(|w| w.id).collect();
    team.sort();
    held.sort();
    assert_eq!(held, team);
    let catalog = boss.store.lock().unwrap().dispatch_catalog().unwrap();
    assert_eq!(catalog.technicians.len(), 3, "the team's technicians came with the dispatch reference");
    assert!(catalog.technicians.iter().any(|t| t.id == tech.user));

    // Offline: a critical call recorded and assigned; the deadlines are there at once.
    let id = WorkOrderId::new();
    let call_at = Utc::now();
    let call = repair_call(&catalog, tech.user);
    let created = boss
        .store
        .lock()
        .unwrap()
        .dispatch(&Dispatch { work_order_id: id, at: call_at, action: DispatchAction::Create(Box::new(call)) }, call_at)
        .unwrap();
    assert_eq!(created.status, WorkOrderStatus::Assigned);
    assert!(created.deadlines.arrive_by > call_at && created.deadlines.arrive_by <= call_at + Duration::hours(24));

    let report = boss.sync().await;
    assert_eq!(report.refused, 0);
    let on_server = server.db.work_order(id).await.unwrap().expect("the call reached the server");
    assert_eq!(on_server, boss.store.lock().unwrap().work_order(id).unwrap(), "device and server agree");

    // The technician receives it, does the visit and signs.
    tech.sync().await;
    assert_eq!(tech.store.lock().unwrap().work_order(id).unwrap().number, created.number);
    do_visit(&tech, id, "李工");
    assert_eq!(tech.sync().await.refused, 0);

    // The supervisor sees it arrive, with the visit, and returns it with a reason.
    boss.sync().await;
    let arrived = boss.store.lock().unwrap().visit(id).unwrap();
    assert_eq!(arrived.work_order.status, WorkOrderStatus::Completed);
    assert!(arrived.sign_off.is_some() && arrived.faults.len() == 1);
    let reason = "故障原因写得不清楚，补充电池型号";
    let back = DispatchAction::Review(ReviewRequest::Return { reason: reason.into() });
    boss.store
        .lock()
        .unwrap()
        .dispatch(&Dispatch { work_order_id: id, at: Utc::now(), action: back }, Utc::now())
        .unwrap();
    assert_eq!(boss.sync().await.refused, 0);

    // The technician sees the reason, reopens, amends and signs a second version.
    tech.sync().await;
    let returned = tech.store.lock().unwrap().work_order(id).unwrap();
    assert_eq!((returned.status, returned.status_note.as_deref()), (WorkOrderStatus::Returned, Some(reason)));
    tech.store.lock().unwrap().change_status(id, StatusAction::Reopen, Utc::now()).unwrap();
    let reopened = tech.store.lock().unwrap().visit(id).unwrap();
    assert!(reopened.sign_off.is_none(), "a reopened visit waits for a new sign-off");
    do_visit(&tech, id, "李工");
    assert_eq!(tech.sync().await.refused, 0);

    // The supervisor approves.
    boss.sync().await;
    let approve = DispatchAction::Review(ReviewRequest::Approve);
    boss.store
        .lock()
        .unwrap()
        .dispatch(&Dispatch { work_order_id: id, at: Utc::now(), action: approve }, Utc::now())
        .unwrap();
    assert_eq!(boss.sync().await.refused, 0);
    assert_eq!(server.db.work_order(id).await.unwrap().unwrap().status, WorkOrderStatus::Approved);
    tech.sync().await;
    assert_eq!(tech.store.lock().unwrap().work_order(id).unwrap().status, WorkOrderStatus::Approved);

    // The ledger holds both signed versions, the second naming the first.
    let ledger = server.db.reports(id).await.unwrap();
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert_eq!((ledger[0].visit_version, ledger[1].visit_version), (0, 1));
    assert_eq!(ledger[1].previous.as_deref(), Some(ledger[0].hash.as_str()));
}

#[tokio::test]
async fn a_supervisor_step_the_server_refuses_is_a_conflict_and_the_device_is_put_right() {
    let server = server().await;
    let boss = device(&server, "supervisor").await;
    let tech = device(&server, "tech1").await;
    boss.sync().await;
    tech.sync().await;
    let catalog = boss.store.lock().unwrap().dispatch_catalog().unwrap();
    let id = WorkOrderId::new();
    let call = repair_call(&catalog, tech.user);
    let now = Utc::now();
    boss.store
        .lock()
        .unwrap()
        .dispatch(&Dispatch { work_order_id: id, at: now, action: DispatchAction::Create(Box::new(call)) }, now)
        .unwrap();
    boss.sync().await;
    tech.sync().await;

    // The technician completes the visit while the supervisor, offline, cancels it.
    do_visit(&tech, id, "李工");
    let cancel = DispatchAction::Cancel { reason: "客户来电取消".into() };
    boss.store.lock().unwrap().dispatch(&Dispatch { work_order_id: id, at: now, action: cancel }, now).unwrap();
    assert_eq!(boss.store.lock().unwrap().work_order(id).unwrap().status, WorkOrderStatus::Cancelled);
    tech.sync().await;
    let report = boss.sync().await;
    assert_eq!(report.refused, 1, "a signed visit cannot be cancelled");

    // The server kept the signed visit; the supervisor's device shows it again, and the
    // cancel lives on as a conflict on both sides.
    assert_eq!(server.db.work_order(id).await.unwrap().unwrap().status, WorkOrderStatus::Completed);
    assert_eq!(boss.store.lock().unwrap().work_order(id).unwrap().status, WorkOrderStatus::Completed);
    let conflicts = boss.store.lock().unwrap().conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!((conflicts[0].op.as_str(), conflicts[0].code.as_str()), ("dispatch", "rule_violation"));
    let on_server = server
        .db
        .conflicts(
            None,
            Some(boss.user),
            &fieldbook_protocol::ConflictFilter { work_order: Some(id), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(on_server.len(), 1);
    assert!(matches!(on_server[0].local, fieldbook_protocol::MutationOp::Dispatch(_)));

    // A technician's device cannot dispatch: the server refuses the step even if it is sent.
    let other = WorkOrderId::new();
    let call = repair_call(&catalog, tech.user);
    tech.store
        .lock()
        .unwrap()
        .dispatch(&Dispatch { work_order_id: other, at: now, action: DispatchAction::Create(Box::new(call)) }, now)
        .unwrap();
    assert_eq!(tech.sync().await.refused, 1);
    assert!(server.db.work_order(other).await.unwrap().is_none());
    assert!(tech.store.lock().unwrap().work_order(other).is_err(), "the refused call left the device");
}

/// Signed reports reach every device holding the work order once the ledger accepts them: the
/// supervisor reviews both versions without asking the server, and a technician who re-signs
/// a returned visit on another tablet names the first version, so the ledger takes it.
#[tokio::test]
async fn signed_reports_reach_the_supervisor_and_the_technicians_other_tablet() {
    let server = server().await;
    let boss = device(&server, "supervisor").await;
    let tablet_a = device(&server, "tech1").await;
    let tablet_b = device(&server, "tech1").await;
    for d in [&boss, &tablet_a, &tablet_b] {
        d.sync().await;
    }
    let catalog = boss.store.lock().unwrap().dispatch_catalog().unwrap();
    let id = WorkOrderId::new();
    let now = Utc::now();
    let call = repair_call(&catalog, tablet_a.user);
    boss.store
        .lock()
        .unwrap()
        .dispatch(&Dispatch { work_order_id: id, at: now, action: DispatchAction::Create(Box::new(call)) }, now)
        .unwrap();
    boss.sync().await;

    // Signed on tablet A.
    tablet_a.sync().await;
    do_visit(&tablet_a, id, "李工");
    assert_eq!(tablet_a.sync().await.refused, 0);
    let first = server.db.reports(id).await.unwrap();
    assert_eq!(first.len(), 1);

    // The supervisor's device has the signed report by sync alone, and returns the visit.
    boss.sync().await;
    let held = boss.store.lock().unwrap().signed_reports(id).unwrap();
    assert_eq!(held.iter().map(|r| r.hash.clone()).collect::<Vec<_>>(), vec![first[0].hash.clone()]);
    let back = DispatchAction::Review(ReviewRequest::Return { reason: "补拍电池铭牌".into() });
    boss.store
        .lock()
        .unwrap()
        .dispatch(&Dispatch { work_order_id: id, at: Utc::now(), action: back }, Utc::now())
        .unwrap();
    assert_eq!(boss.sync().await.refused, 0);

    // Reopened and signed again on tablet B, which never held version 0 until it synced.
    tablet_b.sync().await;
    assert_eq!(tablet_b.store.lock().unwrap().signed_reports(id).unwrap().len(), 1, "tablet B has version 0");
    tablet_b.store.lock().unwrap().change_status(id, StatusAction::Reopen, Utc::now()).unwrap();
    do_visit(&tablet_b, id, "李工");
    let report = tablet_b.sync().await;
    assert_eq!(report.refused, 0, "the ledger takes version 1 from the other tablet");
    let ledger = server.db.reports(id).await.unwrap();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[1].previous.as_deref(), Some(ledger[0].hash.as_str()));

    // Both versions are on the supervisor's device, and on tablet A, without a fetch.
    boss.sync().await;
    tablet_a.sync().await;
    for d in [&boss, &tablet_a] {
        let hashes: Vec<String> =
            d.store.lock().unwrap().signed_reports(id).unwrap().into_iter().map(|r| r.hash).collect();
        assert_eq!(hashes, vec![ledger[0].hash.clone(), ledger[1].hash.clone()]);
    }
}

/// The dispatch catalogue is asked for with the tag of the one kept: unchanged, nothing is
/// sent again; a new customer on the server changes the tag and reaches the device.
#[tokio::test]
async fn the_dispatch_catalogue_is_fetched_again_only_when_it_changed() {
    let server = server().await;
    let boss = device(&server, "supervisor").await;
    boss.sync().await;
    let tag = || boss.store.lock().unwrap().setting("dispatch.etag").unwrap().expect("the catalogue's tag is kept");
    let first = tag();
    boss.sync().await;
    assert_eq!(tag(), first, "unchanged");
    let customers = boss.store.lock().unwrap().dispatch_catalog().unwrap().customers.len();

    let policy = server.db.policies().await.unwrap()[0].id;
    let customer = Customer {
        id: CustomerId::new(),
        name: "宁波舟山港信息中心".into(),
        address: "宁波市北仑区".into(),
        policy_id: policy,
    };
    server
        .db
        .import(fieldbook_server_db::ReferenceBatch { customers: vec![customer.clone()], ..Default::default() })
        .await
        .unwrap();
    boss.sync().await;
    assert_ne!(tag(), first);
    let catalog = boss.store.lock().unwrap().dispatch_catalog().unwrap();
    assert_eq!(catalog.customers.len(), customers + 1);
    assert!(catalog.customers.iter().any(|c| c.id == customer.id));
}
