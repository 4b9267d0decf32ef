//! Convergence, as a property: three devices (two of technician tech1, one of tech2) and a
//! supervisor make random changes offline to the same work orders — notes, status steps,
//! answers, reassignments, cancels — with random partial syncs in between. Once everyone has
//! synced without faults: every device holds exactly what the server holds for its
//! technician, record for record; the two devices of one technician agree byte for byte; and
//! every change a device accepted locally is either on the server or in that device's
//! conflicts list. Nothing acknowledged is lost.
//!
//! `FIELDBOOK_CONVERGENCE_CASES` sets the number of cases (default 1000).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_protocol::{EnrollResponse, WorkOrderFilter};
use fieldbook_server::{AppState, Config, SystemClock, auth};
use fieldbook_server_db::{Database, NewDevice, SupervisorChange};
use fieldbook_store::{ListQuery, NewAnswer, Store};
use fieldbook_sync::{SyncClient, remember_enrollment, sync_once};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

#[derive(Debug, Clone)]
enum Op {
    Note { device: usize, wo: usize },
    Step { device: usize, wo: usize, action: StatusAction },
    Answer { device: usize, wo: usize, abnormal: bool },
    Reassign { wo: usize, technician: usize },
    Cancel { wo: usize },
    Sync { device: usize },
}

const DEVICES: usize = 3;
const WORK_ORDERS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let device = 0..DEVICES;
    let wo = 0..WORK_ORDERS;
    prop_oneof![
        (device.clone(), wo.clone()).prop_map(|(device, wo)| Op::Note { device, wo }),
        (
            device.clone(),
            wo.clone(),
            prop::sample::select(vec![StatusAction::SetOff, StatusAction::Arrive, StatusAction::TurnBack])
        )
            .prop_map(|(device, wo, action)| Op::Step { device, wo, action }),
        (device.clone(), wo.clone(), any::<bool>()).prop_map(|(device, wo, abnormal)| Op::Answer {
            device,
            wo,
            abnormal
        }),
        (wo.clone(), 0..2usize).prop_map(|(wo, technician)| Op::Reassign { wo, technician }),
        wo.prop_map(|wo| Op::Cancel { wo }),
        device.prop_map(|device| Op::Sync { device }),
    ]
}

struct World {
    base: String,
    db: Arc<dyn Database>,
    db_path: std::path::PathBuf,
    template: ChecklistTemplate,
    site: (CustomerId, SiteId, ServicePolicy),
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    let db: Arc<dyn Database> = Arc::new(fieldbook_server_sqlite::SqliteDatabase::open(&db_path).unwrap());
    fieldbook_server::demo::load(db.as_ref(), 10, "convergence-pw", Utc::now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), Arc::new(SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, std::future::pending()));
    let sample = db.work_orders(&WorkOrderFilter::default(), None).await.unwrap().remove(0);
    let customer = db.customer(sample.customer_id).await.unwrap().unwrap();
    let policy = db.policy(customer.policy_id).await.unwrap().unwrap();
    let site = sample.site_id;
    World { base, db, db_path, template: templates::general_patrol(), site: (customer.id, site, policy), _dir: dir }
}

struct Device {
    store: Mutex<Store>,
    client: SyncClient,
    technician: usize,
}

/// A device enrolled straight into storage (an argon2 sign-in per case would only cost time).
async fn device(world: &World, technicians: &[fieldbook_protocol::UserInfo; 2], technician: usize) -> Device {
    let token = auth::new_token();
    let user = technicians[technician].clone();
    let info = world
        .db
        .create_device(NewDevice {
            id: uuid_v7(),
            user_id: user.id,
            name: "property device".into(),
            token_hash: auth::token_hash(&token),
            enrolled_at: Utc::now(),
            public_key: None,
        })
        .await
        .unwrap();
    let store = Mutex::new(Store::open_in_memory().unwrap());
    let enrolled = EnrollResponse { device_id: info.id, token: token.clone(), user, last_seq: info.last_seq };
    remember_enrollment(&store, &world.base, &enrolled).unwrap();
    Device { store, client: SyncClient::new(&world.base, &token), technician }
}

fn uuid_v7() -> String {
    WorkOrderId::new().to_string()
}

fn work_order(world: &World, number: usize, assignee: UserId) -> WorkOrder {
    let (customer_id, site_id, policy) = &world.site;
    let reported_at = Utc::now();
    let id = WorkOrderId::new();
    WorkOrder {
        id,
        number: format!("WO-P-{}-{number}", id.as_uuid().simple()),
        customer_id: *customer_id,
        site_id: *site_id,
        asset_id: None,
        contact: Contact { name: "王经理".into(), phone: "13800000000".into() },
        kind: WorkOrderKind::Patrol,
        fault_level: FaultLevel::Major,
        symptom: "月度巡检".into(),
        reported_by: "调度".into(),
        reported_at,
        assignee: Some(assignee),
        scheduled_for: None,
        billing: BillingBasis::Contract,
        status: WorkOrderStatus::Assigned,
        instructions: String::new(),
        template_id: Some(world.template.id),
        deadlines: policy.deadlines(FaultLevel::Major, reported_at),
        responded_at: None,
        arrived_at: None,
        completed_at: None,
        status_note: None,
        visit_version: 0,
    }
}

/// Ids of every visit record a device holds for these work orders.
fn local_records(device: &Device, ids: &[WorkOrderId]) -> BTreeMap<WorkOrderId, BTreeSet<String>> {
    let store = device.store.lock().unwrap();
    let on_device: BTreeSet<WorkOrderId> = store
        .list_work_orders(&ListQuery { limit: 10_000, ..Default::default() })
        .unwrap()
        .0
        .into_iter()
        .map(|r| r.work_order.id)
        .collect();
    ids.iter()
        .filter(|id| on_device.contains(id))
        .map(|id| {
            let visit = store.visit(*id).unwrap();
            let mut records: BTreeSet<String> = visit.results.iter().map(|r| r.id.to_string()).collect();
            records.extend(visit.notes.iter().map(|n| n.id.to_string()));
            (*id, records)
        })
        .collect()
}

fn server_records(world: &World, id: WorkOrderId) -> BTreeSet<String> {
    let conn =
        rusqlite::Connection::open_with_flags(&world.db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut statement = conn.prepare("SELECT id FROM records WHERE work_order_id = ?1").unwrap();
    statement.query_map([id.to_string()], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// Two technicians of their own for each case, so every case starts with empty change streams.
async fn technicians(world: &World) -> [fieldbook_protocol::UserInfo; 2] {
    let mut made = Vec::new();
    for name in ["甲", "乙"] {
        let id = UserId::new();
        let info = fieldbook_protocol::UserInfo {
            id,
            username: format!("case-{id}"),
            name: format!("技术员{name}"),
            staff_no: "P".into(),
            role: Role::Technician,
            supervisor_id: None,
            disabled: false,
        };
        let record =
            fieldbook_server_db::UserRecord { info, password_hash: "not used: devices are enrolled directly".into() };
        made.push(world.db.create_user(record).await.unwrap());
    }
    [made[0].clone(), made[1].clone()]
}

async fn run_case(world: &World, ops: Vec<Op>) {
    let technicians = technicians(world).await;
    let devices = [
        device(world, &technicians, 0).await,
        device(world, &technicians, 0).await,
        device(world, &technicians, 1).await,
    ];
    let mut ids = Vec::new();
    for (n, technician) in [0, 0, 1].into_iter().enumerate() {
        let wo = world.db.create_work_order(work_order(world, n, technicians[technician].id)).await.unwrap();
        ids.push(wo.id);
    }
    for d in &devices {
        sync_once(&d.store, &d.client, Utc::now()).await.unwrap();
    }
    // Every change a device accepted locally: (device, record id).
    let mut accepted: Vec<(usize, String)> = Vec::new();
    let item = world.template.items.iter().find(|i| matches!(i.kind, ItemKind::Check)).unwrap().key.clone();
    for op in ops {
        match op {
            Op::Note { device, wo } => {
                if let Ok(note) =
                    devices[device].store.lock().unwrap().add_note(ids[wo], None, "现场记录 ✓", Utc::now())
                {
                    accepted.push((device, note.id.to_string()));
                }
            }
            Op::Step { device, wo, action } => {
                let _ = devices[device].store.lock().unwrap().change_status(ids[wo], action, Utc::now());
            }
            Op::Answer { device, wo, abnormal } => {
                let answer = Answer::Check(if abnormal { CheckOutcome::Abnormal } else { CheckOutcome::Normal });
                let new = NewAnswer {
                    work_order_id: ids[wo],
                    item_key: item.clone(),
                    answer,
                    note: String::new(),
                    supersedes: None,
                };
                if let Ok(result) = devices[device].store.lock().unwrap().record_answer(&new, Utc::now()) {
                    accepted.push((device, result.id.to_string()));
                }
            }
            Op::Reassign { wo, technician } => {
                let _ = world
                    .db
                    .change_work_order(ids[wo], SupervisorChange::Assign(technicians[technician].id), Utc::now())
                    .await;
            }
            Op::Cancel { wo } => {
                let _ = world
                    .db
                    .change_work_order(ids[wo], SupervisorChange::Cancel { reason: "客户取消".into() }, Utc::now())
                    .await;
            }
            Op::Sync { device } => {
                sync_once(&devices[device].store, &devices[device].client, Utc::now()).await.unwrap();
            }
        }
    }
    // Everyone syncs, twice: the second round brings what the others sent in the first.
    for _ in 0..2 {
        for d in &devices {
            sync_once(&d.store, &d.client, Utc::now()).await.unwrap();
        }
    }

    for (n, d) in devices.iter().enumerate() {
        assert_eq!(d.store.lock().unwrap().outbox_len().unwrap(), 0, "device {n} sent everything");
        // The device holds exactly its technician's work orders, in the server's state.
        let technician = technicians[d.technician].id;
        let mut expected = BTreeMap::new();
        for id in &ids {
            let server = world.db.work_order(*id).await.unwrap().unwrap();
            if server.assignee == Some(technician) {
                expected.insert(*id, (server.status, server_records(world, *id)));
            }
        }
        let local = local_records(d, &ids);
        let store = d.store.lock().unwrap();
        let actual: BTreeMap<_, _> =
            local.into_iter().map(|(id, records)| (id, (store.work_order(id).unwrap().status, records))).collect();
        assert_eq!(actual, expected, "device {n} equals the server's view of its technician");
        // Every change it accepted is on the server or in its conflicts list.
        let conflicts: Vec<String> = store.conflicts().unwrap().into_iter().map(|c| c.entity_id).collect();
        for (_, record) in accepted.iter().filter(|(device, _)| *device == n) {
            let on_server = ids.iter().any(|id| server_records(world, *id).contains(record));
            assert!(on_server || conflicts.contains(record), "device {n}: change {record} was lost");
        }
    }
    // The two devices of one technician agree byte for byte.
    let (a, b) = (devices[0].store.lock().unwrap(), devices[1].store.lock().unwrap());
    for id in &ids {
        if let (Ok(x), Ok(y)) = (a.visit(*id), b.visit(*id)) {
            assert_eq!(x.content_hash(), y.content_hash());
        }
    }
}

#[test]
fn replicas_converge_and_no_acknowledged_change_is_lost() {
    let cases: u32 = std::env::var("FIELDBOOK_CONVERGENCE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let world = runtime.block_on(world());
    let mut runner = TestRunner::new(RunnerConfig { cases, failure_persistence: None, ..RunnerConfig::default() });
    let result = runner.run(&prop::collection::vec(op(), 1..25), |ops| {
        runtime.block_on(run_case(&world, ops));
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
