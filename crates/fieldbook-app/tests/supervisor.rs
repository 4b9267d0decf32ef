//! The supervisor's screens as the app serves them, against the real server on a loopback
//! port: the deadline board, the options a call can name, deadlines shown while a call is
//! recorded, the call itself and dispatch steps; a technician is refused all of them, and bad
//! input changes nothing.

use std::sync::Arc;

use chrono::Utc;
use fieldbook_app::{App, ErrorCode, SystemClock};
use fieldbook_domain::{
    BillingBasis, Contact, CreateWorkOrder, DispatchAction, FaultLevel, ReviewRequest, Role, WorkOrderKind,
    WorkOrderStatus,
};
use fieldbook_server::{AppState, Config};
use fieldbook_server_db::Database;

const PASSWORD: &str = "app-supervisor-pw";

async fn server() -> (String, Arc<dyn Database>, tempfile::TempDir, tokio::sync::oneshot::Sender<()>) {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> =
        Arc::new(fieldbook_server_sqlite::SqliteDatabase::open(dir.path().join("server.sqlite")).unwrap());
    fieldbook_server::demo::load(db.as_ref(), 40, PASSWORD, Utc::now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(db.clone(), Arc::new(fieldbook_server::SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    (base, db, dir, stop)
}

async fn app_for(base: &str, username: &str) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path(), Arc::new(SystemClock)).unwrap();
    app.enroll(base, username, PASSWORD, "平板").await.unwrap();
    app.sync_now().await.unwrap();
    (app, dir)
}

#[tokio::test]
async fn a_supervisor_sees_the_board_records_a_call_and_dispatches_while_a_technician_cannot() {
    let (base, db, _dir, _stop) = server().await;
    let (boss, _boss_dir) = app_for(&base, "supervisor").await;
    assert_eq!(boss.sync_status().unwrap().role, Some(Role::Supervisor));

    // The board: open work by time left, the visits to review, each technician's load.
    let board = boss.board().unwrap();
    assert!(!board.open.is_empty());
    let dues: Vec<_> = board.open.iter().map(|w| w.next_due.as_ref().map(|d| d.due)).collect();
    assert!(dues.windows(2).all(|p| p[0] <= p[1]), "nearest deadline first: {dues:?}");
    assert!(board.open.iter().all(|w| w.status.is_open()));
    assert!(board.review.iter().all(|w| w.status == WorkOrderStatus::Completed));
    assert_eq!(board.workload.len(), 3);
    let held: u32 = board.workload.iter().map(|w| w.open).sum();
    assert_eq!(held + board.unassigned, board.open.len() as u32);
    let breached = board.open.iter().filter(|w| w.next_due.as_ref().is_some_and(|d| d.state.is_breach())).count();
    let breached_held: u32 = board.workload.iter().map(|w| w.breached).sum();
    assert!(breached_held as usize <= breached);

    // A call: the options, the deadlines at once, then the work order.
    let options = boss.dispatch_options().unwrap();
    let site = options.sites.iter().find(|s| options.assets.iter().any(|a| a.parent.as_ref() == Some(&s.id))).unwrap();
    let asset = options.assets.iter().find(|a| a.parent.as_ref() == Some(&site.id)).unwrap();
    let customer = site.parent.clone().unwrap();
    let technician = options.technicians[0].id.clone();
    let preview = boss.preview_deadlines(&customer, FaultLevel::Critical).unwrap();
    let call = CreateWorkOrder {
        customer_id: customer.parse().unwrap(),
        site_id: site.id.parse().unwrap(),
        asset_id: Some(asset.id.parse().unwrap()),
        contact: Contact { name: "值班长".into(), phone: "0571-88000000".into() },
        kind: WorkOrderKind::Repair,
        fault_level: FaultLevel::Critical,
        symptom: "冷水机组高压报警停机".into(),
        reported_by: "值班长".into(),
        reported_at: None,
        assignee: Some(technician.parse().unwrap()),
        scheduled_for: None,
        billing: BillingBasis::Contract,
        instructions: String::new(),
        template_id: None,
    };
    let pending = boss.pending_changes().unwrap();
    let blank = CreateWorkOrder { symptom: " ".into(), ..call.clone() };
    assert_eq!(boss.create_work_order(blank).unwrap_err().code, ErrorCode::InvalidInput);
    assert_eq!(boss.pending_changes().unwrap(), pending, "a refused call queues nothing");
    let created = boss.create_work_order(call.clone()).unwrap();
    assert_eq!(created.status, WorkOrderStatus::Assigned);
    let detail = boss.work_order_detail(&created.id).unwrap();
    let respond = detail.deadlines.first().unwrap().due;
    assert!(respond >= preview.respond_by && respond - preview.respond_by < chrono::Duration::minutes(1));
    assert!(boss.board().unwrap().open.iter().any(|w| w.id == created.id));

    // A review of an open visit is refused and queues nothing.
    let approve = DispatchAction::Review(ReviewRequest::Approve);
    assert_eq!(boss.dispatch(&created.id, approve).unwrap_err().code, ErrorCode::RuleViolation);
    assert_eq!(boss.pending_changes().unwrap(), pending + 1);
    let level = DispatchAction::Update(fieldbook_domain::UpdateWorkOrder {
        fault_level: Some(FaultLevel::Major),
        ..Default::default()
    });
    assert_eq!(boss.dispatch(&created.id, level).unwrap().fault_level, FaultLevel::Major);

    boss.sync_now().await.unwrap();
    assert_eq!(boss.pending_changes().unwrap(), 0);
    let stored = db.work_order(created.id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((stored.fault_level, stored.number.as_str()), (FaultLevel::Major, created.number.as_str()));

    // A technician's app refuses the supervisor's screens.
    let (tech, _tech_dir) = app_for(&base, "tech1").await;
    assert_eq!(tech.board().unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(tech.create_work_order(call).unwrap_err().code, ErrorCode::Forbidden);
    let cancel = DispatchAction::Cancel { reason: "x".into() };
    assert_eq!(tech.dispatch(&created.id, cancel).unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(tech.team_devices().await.unwrap_err().code, ErrorCode::Forbidden);

    // The team's devices: the technician's tablet is listed with its sync, and a lost one is
    // revoked: it cannot sync any more. The supervisor's own device cannot be revoked here.
    let devices = boss.team_devices().await.unwrap();
    let own = devices.iter().find(|d| d.this_device).expect("the supervisor's device is listed");
    assert_eq!(boss.revoke_device(&own.id.clone()).await.unwrap_err().code, ErrorCode::InvalidInput);
    let tablet = devices.iter().find(|d| d.user_name == "张伟" && !d.this_device).expect("tech1's tablet");
    assert!(tablet.last_sync_at.is_some() && tablet.revoked_at.is_none());
    assert_eq!(tablet.pending, Some(0), "it said it holds nothing unsent when it last synced");
    let after = boss.revoke_device(&tablet.id.clone()).await.unwrap();
    assert!(after.iter().find(|d| d.id == tablet.id).unwrap().revoked_at.is_some());
    assert_eq!(tech.sync_now().await.unwrap_err().code, ErrorCode::NotSignedIn, "a revoked tablet is signed out");
    assert_eq!(boss.revoke_device("no-such-device").await.unwrap_err().code, ErrorCode::Forbidden);
}

/// A patrol schedule made from the supervisor's app: its first work order, due within the
/// lead, is made by the server at once and reaches both the supervisor's and the technician's
/// devices by sync; pausing shows; a technician's app may not manage schedules; a bad draft is
/// refused before anything is sent.
#[tokio::test]
async fn a_supervisor_schedules_a_monthly_patrol_that_reaches_the_technician() {
    let (base, db, _dir, _stop) = server().await;
    let (boss, _boss_dir) = app_for(&base, "supervisor").await;
    let (tech, _tech_dir) = app_for(&base, "tech1").await;
    let options = boss.dispatch_options().unwrap();
    let site = options.sites.iter().find(|s| options.assets.iter().any(|a| a.parent.as_ref() == Some(&s.id))).unwrap();
    let asset = options.assets.iter().find(|a| a.parent.as_ref() == Some(&site.id)).unwrap();
    let tech1_info = db.user_by_username("tech1").await.unwrap().unwrap().info;
    let tech1 = tech1_info.id.to_string();
    let draft = fieldbook_app::ScheduleDraft {
        customer_id: site.parent.clone().unwrap(),
        site_id: site.id.clone(),
        asset_id: Some(asset.id.clone()),
        kind: WorkOrderKind::Patrol,
        every: fieldbook_domain::schedule::Recurrence::Monthly,
        first_due: Utc::now() + chrono::Duration::days(5),
        lead_days: 14,
        assignee: Some(tech1.clone()),
        contact_name: "物业值班室".into(),
        contact_phone: "0574-86000000".into(),
        instructions: "UPS 月度巡检".into(),
    };

    let demo = boss.schedules().await.unwrap().len();
    let listed = boss.create_schedule(draft.clone()).await.unwrap();
    assert_eq!(listed.len(), demo + 1);
    let schedule = listed.iter().find(|s| s.instructions == "UPS 月度巡检").unwrap();
    assert!(schedule.active);
    assert_eq!(schedule.assignee.as_deref(), Some(tech1_info.name.as_str()));
    assert!(schedule.next_due.is_some_and(|d| d > Utc::now()));
    let patrols = |app: &App| {
        app.list_work_orders(fieldbook_app::WorkOrderQuery { search: Some("PM-".into()), ..Default::default() })
            .unwrap()
    };
    assert_eq!(patrols(&boss).total, 1, "the supervisor's device has the patrol the schedule made");
    tech.sync_now().await.unwrap();
    let received = patrols(&tech);
    assert_eq!(received.total, 1, "the technician's device received it");

    let paused = boss.set_schedule_active(&schedule.id, false).await.unwrap();
    assert!(!paused.iter().find(|s| s.id == schedule.id).unwrap().active);

    let err = tech.schedules().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{err}");
    let err = boss
        .create_schedule(fieldbook_app::ScheduleDraft { kind: WorkOrderKind::Repair, ..draft.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput, "{err}");
    let err =
        boss.create_schedule(fieldbook_app::ScheduleDraft { contact_phone: " ".into(), ..draft }).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput, "{err}");
    assert_eq!(boss.schedules().await.unwrap().len(), demo + 1, "nothing more was made");
}

/// Editing a checklist makes its next version on the server and the device, and the visits
/// already running keep theirs; the parts catalogue takes a new part and a new price, which
/// reach a technician's device by sync. Technicians may do neither; bad input changes nothing.
#[tokio::test]
async fn a_supervisor_versions_a_checklist_and_prices_a_part() {
    let (base, db, _dir, _stop) = server().await;
    let (boss, _boss_dir) = app_for(&base, "supervisor").await;
    let (tech, _tech_dir) = app_for(&base, "tech1").await;

    let catalog = boss.template_catalog().unwrap();
    let v1 = catalog.iter().find(|t| t.code == "patrol.general" && t.latest).unwrap().clone();
    let running = db
        .work_orders(&Default::default(), None)
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.template_id.map(|t| t.to_string()) == Some(v1.id.clone()) && w.status.is_open())
        .expect("an open work order runs on the checklist");
    let mut draft = boss.template_detail(&v1.id).unwrap();
    let old_first = draft.items[0].label.clone();
    draft.items[0].label.zh = format!("{}（含接地检查）", draft.items[0].label.zh);
    let mut added = draft.items[0].clone();
    added.key = String::new();
    added.label = fieldbook_domain::Bilingual::new("机柜门锁", "Cabinet lock");
    draft.items.push(added);
    let saved = boss
        .save_template(fieldbook_app::TemplateDraft {
            code: draft.code.clone(),
            name: draft.name.clone(),
            items: draft.items.clone(),
        })
        .await
        .unwrap();
    assert_eq!((saved.version, saved.latest, saved.in_use), (v1.version + 1, true, 0));
    assert_eq!(saved.items, v1.items + 1);
    let catalog = boss.template_catalog().unwrap();
    let old = catalog.iter().find(|t| t.id == v1.id).unwrap();
    assert!(!old.latest && old.in_use == v1.in_use, "the old version stays, with its visits: {old:?}");
    // On the server: both versions, the running work order still on the first.
    let versions: Vec<_> = db.templates().await.unwrap().into_iter().filter(|t| t.code == "patrol.general").collect();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        db.work_order(running.id).await.unwrap().unwrap().template_id.map(|t| t.to_string()),
        Some(v1.id.clone())
    );
    assert_eq!(boss.template_detail(&v1.id).unwrap().items[0].label, old_first, "version 1 is unchanged");
    let new = boss.template_detail(&saved.id).unwrap();
    assert!(
        new.items.last().unwrap().key.ends_with(".item1"),
        "a new item gets a key: {}",
        new.items.last().unwrap().key
    );

    // Bad templates are refused before anything is sent.
    for (what, items) in [
        ("no items", vec![]),
        ("a nameless item", {
            let mut items = draft.items.clone();
            items[0].label.en = " ".into();
            items
        }),
        ("a key twice", {
            let mut items = draft.items.clone();
            items[1].key = items[0].key.clone();
            items
        }),
    ] {
        let err = boss
            .save_template(fieldbook_app::TemplateDraft { code: draft.code.clone(), name: draft.name.clone(), items })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{what}: {err}");
    }
    assert_eq!(db.templates().await.unwrap().iter().filter(|t| t.code == "patrol.general").count(), 2);

    // A new part, then a new price for it.
    let part = fieldbook_app::PartOption {
        part_number: "UPS-FAN-120".into(),
        name: "UPS 散热风扇 120mm".into(),
        needs_customer_approval: false,
        unit_price_cents: 8800,
    };
    boss.save_part(part.clone()).await.unwrap();
    let repriced = boss.save_part(fieldbook_app::PartOption { unit_price_cents: 9200, ..part.clone() }).await.unwrap();
    assert_eq!(repriced.unit_price_cents, 9200);
    assert_eq!(boss.part_catalog("UPS-FAN").unwrap(), vec![repriced.clone()]);
    assert!(db.parts().await.unwrap().iter().any(|p| p.part_number == "UPS-FAN-120" && p.unit_price_cents == 9200));
    tech.sync_now().await.unwrap();
    assert_eq!(tech.search_parts("UPS-FAN").unwrap(), vec![repriced], "the technician's catalogue has it");
    let err = boss.save_part(fieldbook_app::PartOption { unit_price_cents: -1, ..part.clone() }).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput, "{err}");
    let err = boss.save_part(fieldbook_app::PartOption { part_number: " ".into(), ..part.clone() }).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput, "{err}");

    // Technicians may not edit the catalogue.
    assert_eq!(tech.template_catalog().unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(tech.save_part(part).await.unwrap_err().code, ErrorCode::Forbidden);
}
