//! No device is left unable to sync by what happened to the server: a server restored from a
//! backup (fewer of the device's changes than it acknowledged, a stream that ends before the
//! device's cursor), and work orders of one day that start from the same number.

use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_protocol::WorkOrderFilter;
use fieldbook_sync::{SyncClient, sync_once};

mod support;
use support::*;

/// tech1's work orders on the server, sorted by id, and on the device, sorted alike.
async fn both_sides(server: &Server, tablet: &Device) -> (Vec<WorkOrder>, Vec<WorkOrder>) {
    let filter = WorkOrderFilter { limit: Some(5000), assignee: Some(tablet.user), ..Default::default() };
    let mut on_server = server.db.work_orders(&filter, None).await.unwrap();
    on_server.sort_by_key(|w| w.id);
    let mut on_device = tablet.work_orders();
    on_device.sort_by_key(|w| w.id);
    (on_server, on_device)
}

#[tokio::test]
async fn a_server_restored_from_a_backup_takes_the_outbox_again_and_its_devices_pull_everything_again() {
    let server = server().await;
    let tablet = device(&server, "tech1").await;
    let phone = device(&server, "tech1").await;
    tablet.sync().await;
    phone.sync().await;
    let wo = tablet.assigned_with_checklist();
    let backup = server.backup();

    // After the backup: work the server acknowledges (the tablet drops it from its outbox, and
    // both devices' cursors move past what the backup holds), then work the tablet has not sent.
    for text in ["备份之后，已同步", "备份之后，第二条"] {
        tablet.store.lock().unwrap().add_note(wo.id, None, text, Utc::now()).unwrap();
    }
    tablet.sync().await;
    phone.sync().await;
    tablet.store.lock().unwrap().add_note(wo.id, None, "恢复之后才发送", Utc::now()).unwrap();
    drop(server);

    // The server is restored from the backup; both devices' tokens are in it.
    let restored = restored(backup).await;
    let client_of = |device: &Device| {
        let token = device.store.lock().unwrap().setting("sync.token").unwrap().unwrap();
        SyncClient::new(&restored.base, &token)
    };
    let (tablet_client, phone_client) = (client_of(&tablet), client_of(&phone));

    // The tablet's next change is past what the server holds of it: its outbox is numbered
    // from where the server stands, and, the server having lost changes, it pulls all again.
    let report = sync_once(&tablet.store, &tablet_client, Utc::now()).await.expect("the sync goes through");
    assert!(report.renumbered && report.pulled_again, "{report:?}");
    assert_eq!((report.pushed, report.refused), (1, 0));
    assert_eq!(tablet.store.lock().unwrap().outbox_len().unwrap(), 0, "the outbox drained");
    // The phone has nothing to send; its cursor is past the restored stream's end, which the
    // server refuses, and it pulls all again.
    let cursor = phone.store.lock().unwrap().pull_cursor().unwrap();
    let report = sync_once(&phone.store, &phone_client, Utc::now()).await.expect("the sync goes through");
    assert!(!report.renumbered && report.pulled_again, "cursor {cursor}: {report:?}");

    // The note sent after the restore is on the server and reaches the phone; the two the
    // backup lost are not, and the tablet still shows what it recorded, each note once.
    let notes_of = |device: &Device| -> Vec<String> {
        device.store.lock().unwrap().visit(wo.id).unwrap().notes.into_iter().map(|n| n.text).collect()
    };
    assert_eq!(notes_of(&tablet), ["备份之后，已同步", "备份之后，第二条", "恢复之后才发送"]);
    assert_eq!(notes_of(&phone), ["备份之后，已同步", "备份之后，第二条", "恢复之后才发送"]);
    let fresh = device(&restored, "tech1").await;
    fresh.sync().await;
    assert_eq!(notes_of(&fresh), ["恢复之后才发送"]);
    for device in [&tablet, &phone] {
        let (server_side, device_side) = both_sides(&restored, device).await;
        assert_eq!(device_side, server_side);
    }

    // The next syncs are ordinary ones.
    for (device, client) in [(&tablet, &tablet_client), (&phone, &phone_client)] {
        let next = sync_once(&device.store, client, Utc::now()).await.unwrap();
        assert!(!next.renumbered && !next.pulled_again, "{next:?}");
    }
}

/// An id made on a device that ends like `twin`, as two of a few thousand ids a day do.
fn twin_id(twin: WorkOrderId) -> WorkOrderId {
    let fresh = WorkOrderId::new().to_string();
    let theirs = twin.to_string();
    format!("{}{}", &fresh[..fresh.len() - 6], &theirs[theirs.len() - 6..]).parse().unwrap()
}

#[tokio::test]
async fn two_calls_recorded_offline_on_two_devices_with_the_same_first_number_both_reach_everyone() {
    let server = server().await;
    let (boss1, boss2) = (device(&server, "supervisor").await, device(&server, "supervisor").await);
    boss1.sync().await;
    boss2.sync().await;
    let catalog = boss1.store.lock().unwrap().dispatch_catalog().unwrap();
    let tech = catalog.technicians[0].id;
    let site = &catalog.sites[0];
    let call = CreateWorkOrder {
        customer_id: site.customer_id,
        site_id: site.id,
        asset_id: None,
        contact: Contact { name: "值班长 李工".into(), phone: "0571-88000000".into() },
        kind: WorkOrderKind::Repair,
        fault_level: FaultLevel::Major,
        symptom: "空调漏水".into(),
        reported_by: "李工".into(),
        reported_at: None,
        assignee: Some(tech),
        scheduled_for: None,
        billing: BillingBasis::Contract,
        instructions: String::new(),
        template_id: None,
    };
    let now = Utc::now();
    let first = WorkOrderId::new();
    let second = twin_id(first);
    let step = |id| Dispatch { work_order_id: id, at: now, action: DispatchAction::Create(Box::new(call.clone())) };
    let one = boss1.store.lock().unwrap().dispatch(&step(first), now).unwrap();
    let two = boss2.store.lock().unwrap().dispatch(&step(second), now).unwrap();
    assert_eq!(one.number, two.number, "each device gives its call the first number of its id");

    assert_eq!(boss1.sync().await.refused, 0);
    // The second device sends its call, which the server stores under its next number, and
    // pulls the first, which has the number its own call holds here: neither stalls.
    assert_eq!(boss2.sync().await.refused, 0);
    let stored = server.db.work_order(second).await.unwrap().unwrap();
    assert_eq!(stored.number, work_order::numbers_for("WO", second, stored.reported_at).nth(1).unwrap());
    assert_eq!(server.db.work_order(first).await.unwrap().unwrap().number, one.number);
    for boss in [&boss1, &boss2] {
        boss.sync().await;
        let store = boss.store.lock().unwrap();
        assert_eq!(store.work_order(first).unwrap().number, one.number);
        assert_eq!(store.work_order(second).unwrap().number, stored.number);
        assert_eq!(store.outbox_len().unwrap(), 0);
    }
}
