//! Convergence, as a property: three devices (two of technician tech1, one of tech2) and a
//! supervisor make random changes offline to the same work orders — notes, status steps,
//! answers, corrective requests, reassignments, cancels — with random partial syncs in
//! between. Once everyone has synced without faults: every device holds exactly what the server
//! holds for its technician, record for record; the two devices of one technician agree byte
//! for byte; and every change a device accepted locally is either on the server or in that
//! device's conflicts list. Nothing acknowledged is lost.
//!
//! `FIELDBOOK_CONVERGENCE_CASES` sets the number of cases (default 1000).

use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_protocol::WorkOrderFilter;
use fieldbook_server_db::SupervisorChange;
use fieldbook_store::{ListQuery, NewAnswer};
use fieldbook_sync::sync_once;
use fieldbook_tests::loopback::{
    EnrolledDevice, LoopbackServer, enrolled_device, loopback_server, new_technicians, run_property,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone)]
enum Op {
    Note {
        device: usize,
        wo: usize,
    },
    Step {
        device: usize,
        wo: usize,
        action: StatusAction,
    },
    Answer {
        device: usize,
        wo: usize,
        abnormal: bool,
    },
    /// A corrective work order asked for on the visit: made once on the server, however often
    /// it is sent, under the first free number of its id.
    Corrective {
        device: usize,
        wo: usize,
    },
    Reassign {
        wo: usize,
        technician: usize,
    },
    Cancel {
        wo: usize,
    },
    Sync {
        device: usize,
    },
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
        (device.clone(), wo.clone()).prop_map(|(device, wo)| Op::Corrective { device, wo }),
        (wo.clone(), 0..2usize).prop_map(|(wo, technician)| Op::Reassign { wo, technician }),
        wo.prop_map(|wo| Op::Cancel { wo }),
        device.prop_map(|device| Op::Sync { device }),
    ]
}

struct World {
    server: LoopbackServer,
    template: ChecklistTemplate,
    site: (CustomerId, SiteId, ServicePolicy),
}

async fn world() -> World {
    let server = loopback_server(10).await;
    let db = &server.db;
    let sample = db.work_orders(&WorkOrderFilter::default(), None).await.unwrap().remove(0);
    let customer = db.customer(sample.customer_id).await.unwrap().unwrap();
    let policy = db.policy(customer.policy_id).await.unwrap().unwrap();
    let site = sample.site_id;
    World { server, template: templates::general_patrol(), site: (customer.id, site, policy) }
}

struct Device {
    device: EnrolledDevice,
    technician: usize,
}

impl std::ops::Deref for Device {
    type Target = EnrolledDevice;
    fn deref(&self) -> &EnrolledDevice {
        &self.device
    }
}

async fn device(world: &World, technicians: &[fieldbook_protocol::UserInfo], technician: usize) -> Device {
    Device { device: enrolled_device(&world.server, &technicians[technician]).await, technician }
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
            records.extend(store.corrective_requests(*id).unwrap().iter().map(|c| c.id.to_string()));
            (*id, records)
        })
        .collect()
}

fn server_records(world: &World, id: WorkOrderId) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open_with_flags(&world.server.db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut statement = conn.prepare("SELECT id FROM records WHERE work_order_id = ?1").unwrap();
    statement.query_map([id.to_string()], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

async fn run_case(world: &World, ops: Vec<Op>) {
    let technicians = new_technicians(&world.server, None, 2).await;
    let devices = [
        device(world, &technicians, 0).await,
        device(world, &technicians, 0).await,
        device(world, &technicians, 1).await,
    ];
    let mut ids = Vec::new();
    for (n, technician) in [0, 0, 1].into_iter().enumerate() {
        let wo = world.server.db.create_work_order(work_order(world, n, technicians[technician].id)).await.unwrap();
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
            Op::Corrective { device, wo } => {
                let asked = devices[device].store.lock().unwrap().request_corrective(
                    ids[wo],
                    None,
                    FaultLevel::Minor,
                    "滤网需更换",
                    None,
                    Utc::now(),
                );
                if let Ok(request) = asked {
                    accepted.push((device, request.id.to_string()));
                }
            }
            Op::Reassign { wo, technician } => {
                let _ = world
                    .server
                    .db
                    .change_work_order(ids[wo], SupervisorChange::Assign(technicians[technician].id), Utc::now())
                    .await;
            }
            Op::Cancel { wo } => {
                let _ = world
                    .server
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
            let server = world.server.db.work_order(*id).await.unwrap().unwrap();
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
    let ops = prop::collection::vec(op(), 1..25);
    run_property("FIELDBOOK_CONVERGENCE_CASES", 1000, world(), ops, |runtime, world, ops| {
        runtime.block_on(run_case(world, ops))
    });
}
