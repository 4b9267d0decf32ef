//! No record can stall a device, as a property: two technicians' devices and their supervisor's
//! make every kind of change offline — notes, status steps, answers, faults, parts, corrective
//! requests, calls recorded and assigned — while a second client of the first technician pushes
//! hand-made mutations that collide with them: corrective work orders whose ids end alike (so
//! they start from one number) or are another work order's id, records under an id already
//! used, and replays of its own pushes. Answers are lost (a push whose answer never arrives),
//! and retries are shorter than the push they follow. After everyone has synced:
//!
//! - every device's outbox has drained;
//! - every change a device accepted locally is on the server or in that device's conflicts, and
//!   every hand-made mutation got an outcome, answered alike when replayed;
//! - a fresh device of each person holds exactly what that person's device holds.
//!
//! `FIELDBOOK_OUTBOX_CASES` sets the number of cases (default 300).

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_protocol::{Mutation, MutationOp, Outcome, UserInfo};
use fieldbook_store::{ListQuery, NewAnswer};
use fieldbook_sync::{SyncClient, SyncReport, plan, push_waiting, sync_once};
use fieldbook_tests::loopback::{
    EnrolledDevice, LoopbackServer, enrolled_device, loopback_server, new_technicians, run_property,
};
use proptest::prelude::*;

/// The technicians' devices are 0 and 1; the supervisor's is 2.
const SUPERVISOR: usize = 2;
const WORK_ORDERS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Note {
        device: usize,
        wo: usize,
    },
    Step {
        device: usize,
        wo: usize,
        arrive: bool,
    },
    Answer {
        device: usize,
        wo: usize,
        abnormal: bool,
    },
    Fault {
        device: usize,
        wo: usize,
    },
    Part {
        device: usize,
        wo: usize,
    },
    Corrective {
        device: usize,
        wo: usize,
    },
    /// The supervisor records a call, under an id that ends like the last new work order's
    /// when `twin`, assigned to a technician.
    Call {
        twin: bool,
        technician: usize,
    },
    Assign {
        wo: usize,
        technician: usize,
    },
    /// The second client asks for a corrective work order whose id ends like the last new work
    /// order's, or is one of the case's work orders' ids.
    RawCorrective {
        wo: usize,
        taken_id: bool,
    },
    /// The second client pushes a note under the id of a note a device wrote, with other text.
    RawNoteReusingAnId,
    /// The second client sends its last push again.
    RawReplay,
    /// A device's push reaches the server, but its answer is lost.
    LostAnswer {
        device: usize,
    },
    /// A device sends only its first `rows` waiting changes.
    ShortPush {
        device: usize,
        rows: u32,
    },
    Sync {
        device: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let tech = 0..2usize;
    let any_device = 0..3usize;
    let wo = 0..WORK_ORDERS;
    prop_oneof![
        (tech.clone(), wo.clone()).prop_map(|(device, wo)| Op::Note { device, wo }),
        (tech.clone(), wo.clone(), any::<bool>()).prop_map(|(device, wo, arrive)| Op::Step { device, wo, arrive }),
        (tech.clone(), wo.clone(), any::<bool>()).prop_map(|(device, wo, abnormal)| Op::Answer {
            device,
            wo,
            abnormal
        }),
        (tech.clone(), wo.clone()).prop_map(|(device, wo)| Op::Fault { device, wo }),
        (tech.clone(), wo.clone()).prop_map(|(device, wo)| Op::Part { device, wo }),
        (tech.clone(), wo.clone()).prop_map(|(device, wo)| Op::Corrective { device, wo }),
        (any::<bool>(), tech.clone()).prop_map(|(twin, technician)| Op::Call { twin, technician }),
        (wo.clone(), tech).prop_map(|(wo, technician)| Op::Assign { wo, technician }),
        (wo, any::<bool>()).prop_map(|(wo, taken_id)| Op::RawCorrective { wo, taken_id }),
        Just(Op::RawNoteReusingAnId),
        Just(Op::RawReplay),
        any_device.clone().prop_map(|device| Op::LostAnswer { device }),
        (any_device.clone(), 1..4u32).prop_map(|(device, rows)| Op::ShortPush { device, rows }),
        any_device.prop_map(|device| Op::Sync { device }),
    ]
}

struct World {
    server: LoopbackServer,
    supervisor: UserInfo,
    template: ChecklistTemplate,
    sample: WorkOrder,
}

async fn world() -> World {
    let server = loopback_server(10).await;
    let supervisor = server.db.user_by_username("supervisor").await.unwrap().expect("the demo supervisor").info;
    let sample = server.db.work_orders(&Default::default(), None).await.unwrap().remove(0);
    World { server, supervisor, template: templates::general_patrol(), sample }
}

/// A patrol work order with the general checklist, assigned to `assignee`.
fn work_order(world: &World, assignee: UserId) -> WorkOrder {
    let reported_at = Utc::now();
    let id = WorkOrderId::new();
    WorkOrder {
        id,
        number: format!("WO-Q-{}", id.as_uuid().simple()),
        assignee: Some(assignee),
        status: WorkOrderStatus::Assigned,
        kind: WorkOrderKind::Patrol,
        template_id: Some(world.template.id),
        reported_at,
        responded_at: None,
        arrived_at: None,
        completed_at: None,
        status_note: None,
        visit_version: 0,
        ..world.sample.clone()
    }
}

/// An id that ends like `twin`'s last six hex digits, as two of a few thousand a day do.
fn twin_of(twin: WorkOrderId) -> WorkOrderId {
    let (fresh, theirs) = (WorkOrderId::new().to_string(), twin.to_string());
    format!("{}{}", &fresh[..fresh.len() - 6], &theirs[theirs.len() - 6..]).parse().unwrap()
}

/// The second client: a device of the first technician that pushes hand-made mutations.
struct RawClient {
    client: SyncClient,
    seq: u64,
    last: Option<(Mutation, Outcome)>,
}

impl RawClient {
    /// Pushes `op` as the next mutation: the answer must carry its outcome and acknowledge it,
    /// whatever it says of the content.
    async fn push(&mut self, op: MutationOp) {
        let mutation =
            Mutation { seq: self.seq + 1, id: MutationId::new(), hlc: Hlc::at(Utc::now().timestamp_millis()), op };
        let answer = self.client.push(std::slice::from_ref(&mutation)).await.expect("a push is never refused whole");
        assert_eq!(answer.acked_through, mutation.seq);
        assert_eq!(answer.outcomes.len(), 1);
        assert_eq!(answer.outcomes[0].seq, mutation.seq);
        self.seq += 1;
        self.last = Some((mutation, answer.outcomes[0].outcome.clone()));
    }

    async fn replay(&self) {
        let Some((mutation, first)) = &self.last else { return };
        let answer = self.client.push(std::slice::from_ref(mutation)).await.expect("a replay is never refused whole");
        let expected = match first {
            Outcome::Applied | Outcome::AlreadyApplied => Outcome::AlreadyApplied,
            refused => refused.clone(),
        };
        assert_eq!((answer.acked_through, &answer.outcomes[0].outcome), (mutation.seq, &expected));
    }
}

/// Each work order a device holds: its number and status, and the ids of every record on it.
type Holdings = BTreeMap<WorkOrderId, (String, WorkOrderStatus, BTreeSet<String>)>;

fn holdings(device: &EnrolledDevice) -> Holdings {
    let store = device.store.lock().unwrap();
    let (rows, _) = store.list_work_orders(&ListQuery { limit: 10_000, ..Default::default() }).unwrap();
    rows.into_iter()
        .map(|row| {
            let w = row.work_order;
            let visit = store.visit(w.id).unwrap();
            let mut records: BTreeSet<String> = visit.results.iter().map(|r| r.id.to_string()).collect();
            records.extend(visit.notes.iter().map(|n| n.id.to_string()));
            records.extend(visit.faults.iter().map(|f| f.id.to_string()));
            records.extend(visit.parts.iter().map(|p| p.id.to_string()));
            records.extend(store.corrective_requests(w.id).unwrap().iter().map(|c| c.id.to_string()));
            (w.id, (w.number, w.status, records))
        })
        .collect()
}

fn server_record_ids(world: &World) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open_with_flags(&world.server.db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut statement = conn.prepare("SELECT id FROM records UNION SELECT id FROM work_orders").unwrap();
    statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn fault() -> FaultDraft {
    FaultDraft {
        symptom: "风扇异响".into(),
        cause: "轴承磨损".into(),
        action: "更换风扇".into(),
        result: "恢复正常".into(),
        category: "散热".into(),
        started_at: None,
        ended_at: None,
        loaner_provided_at: None,
        supersedes: None,
    }
}

fn part() -> PartDraft {
    PartDraft {
        part_number: "FAN-120".into(),
        name: "散热风扇".into(),
        quantity: 1,
        serial: String::new(),
        billing: PartBilling::Warranty,
        old_part_returned: true,
        needs_customer_approval: false,
        supersedes: None,
        billing_reason: None,
    }
}

fn call(world: &World, assignee: UserId) -> CreateWorkOrder {
    let sample = &world.sample;
    CreateWorkOrder {
        customer_id: sample.customer_id,
        site_id: sample.site_id,
        asset_id: None,
        contact: sample.contact.clone(),
        kind: WorkOrderKind::Repair,
        fault_level: FaultLevel::Major,
        symptom: "客户来电：空调漏水".into(),
        reported_by: "值班长".into(),
        reported_at: None,
        assignee: Some(assignee),
        scheduled_for: None,
        billing: BillingBasis::Contract,
        instructions: String::new(),
        template_id: None,
    }
}

/// Sends a device's waiting changes and loses the answer.
async fn lose_answer(device: &EnrolledDevice) {
    let mutations: Vec<Mutation> = {
        let store = device.store.lock().unwrap();
        let base: i64 = store.setting("sync.seq_base").unwrap().and_then(|v| v.parse().ok()).unwrap_or(0);
        store.outbox(fieldbook_sync::PUSH_BATCH).unwrap().iter().map(|e| plan::to_mutation(e, base).unwrap()).collect()
    };
    if !mutations.is_empty() {
        let _lost = device.client.push(&mutations).await;
    }
}

async fn run_case(world: &World, ops: Vec<Op>) {
    let technicians = new_technicians(&world.server, Some(world.supervisor.id), 2).await;
    let devices = [
        enrolled_device(&world.server, &technicians[0]).await,
        enrolled_device(&world.server, &technicians[1]).await,
        enrolled_device(&world.server, &world.supervisor).await,
    ];
    let mut raw =
        RawClient { client: enrolled_device(&world.server, &technicians[0]).await.client, seq: 0, last: None };
    let mut ids = Vec::new();
    for technician in [0, 0, 1] {
        let made = world.server.db.create_work_order(work_order(world, technicians[technician].id)).await.unwrap();
        ids.push(made.id);
    }
    for d in &devices {
        sync_once(&d.store, &d.client, Utc::now()).await.unwrap();
    }
    let item = world.template.items.iter().find(|i| matches!(i.kind, ItemKind::Check)).unwrap().key.clone();
    // Every record a device accepted locally: (device, id).
    let mut accepted: Vec<(usize, String)> = Vec::new();
    let mut notes: Vec<NoteId> = Vec::new();
    let mut last_new = ids[0];
    let now = Utc::now;
    for op in ops {
        match op {
            Op::Note { device, wo } => {
                if let Ok(note) = devices[device].store.lock().unwrap().add_note(ids[wo], None, "现场记录 ✓", now())
                {
                    notes.push(note.id);
                    accepted.push((device, note.id.to_string()));
                }
            }
            Op::Step { device, wo, arrive } => {
                let action = if arrive { StatusAction::Arrive } else { StatusAction::SetOff };
                let _ = devices[device].store.lock().unwrap().change_status(ids[wo], action, now());
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
                if let Ok(result) = devices[device].store.lock().unwrap().record_answer(&new, now()) {
                    accepted.push((device, result.id.to_string()));
                }
            }
            Op::Fault { device, wo } => {
                if let Ok(fault) = devices[device].store.lock().unwrap().record_fault(ids[wo], &fault(), now()) {
                    accepted.push((device, fault.id.to_string()));
                }
            }
            Op::Part { device, wo } => {
                if let Ok(part) = devices[device].store.lock().unwrap().record_part(ids[wo], &part(), now()) {
                    accepted.push((device, part.id.to_string()));
                }
            }
            Op::Corrective { device, wo } => {
                let asked = devices[device].store.lock().unwrap().request_corrective(
                    ids[wo],
                    None,
                    FaultLevel::Minor,
                    "需更换滤网",
                    Some(technicians[device].id),
                    now(),
                );
                if let Ok(request) = asked {
                    last_new = request.id;
                    accepted.push((device, request.id.to_string()));
                }
            }
            Op::Call { twin, technician } => {
                let id = if twin { twin_of(last_new) } else { WorkOrderId::new() };
                let step = Dispatch {
                    work_order_id: id,
                    at: now(),
                    action: DispatchAction::Create(Box::new(call(world, technicians[technician].id))),
                };
                if devices[SUPERVISOR].store.lock().unwrap().dispatch(&step, now()).is_ok() {
                    last_new = id;
                    accepted.push((SUPERVISOR, id.to_string()));
                }
            }
            Op::Assign { wo, technician } => {
                let step = Dispatch {
                    work_order_id: ids[wo],
                    at: now(),
                    action: DispatchAction::Assign { assignee: technicians[technician].id },
                };
                let _ = devices[SUPERVISOR].store.lock().unwrap().dispatch(&step, now());
            }
            Op::RawCorrective { wo, taken_id } => {
                let id = if taken_id { ids[(wo + 1) % WORK_ORDERS] } else { twin_of(last_new) };
                raw.push(MutationOp::CorrectiveRequest(CorrectiveRequest {
                    id,
                    work_order_id: ids[wo],
                    item_key: None,
                    fault_level: FaultLevel::Minor,
                    symptom: "另一客户端：需更换滤网".into(),
                    requested_by: Some(technicians[0].id),
                    requested_at: now(),
                }))
                .await;
            }
            Op::RawNoteReusingAnId => {
                let Some(id) = notes.last().copied() else { continue };
                let work_order_id = ids[0];
                let note =
                    Note {
                        id, work_order_id, author: None, text: "另一客户端，同一编号".into(), written_at: now()
                    };
                raw.push(MutationOp::Note(note)).await;
            }
            Op::RawReplay => raw.replay().await,
            Op::LostAnswer { device } => lose_answer(&devices[device]).await,
            Op::ShortPush { device, rows } => {
                let d = &devices[device];
                push_waiting(&d.store, &d.client, rows, now(), &|_| {}, &mut SyncReport::default()).await.unwrap();
            }
            Op::Sync { device } => {
                sync_once(&devices[device].store, &devices[device].client, now()).await.unwrap();
            }
        }
    }
    // Everyone syncs, twice: the second round brings what the others sent in the first.
    for _ in 0..2 {
        for d in &devices {
            sync_once(&d.store, &d.client, Utc::now()).await.unwrap();
        }
    }

    let on_server = server_record_ids(world);
    for (n, d) in devices.iter().enumerate() {
        assert_eq!(d.store.lock().unwrap().outbox_len().unwrap(), 0, "device {n}'s outbox drained");
        let conflicts: BTreeSet<String> =
            d.store.lock().unwrap().conflicts().unwrap().into_iter().map(|c| c.entity_id).collect();
        for (_, id) in accepted.iter().filter(|(device, _)| *device == n) {
            assert!(on_server.contains(id) || conflicts.contains(id), "device {n}: the fate of {id} is unknown");
        }
        // A fresh device of the same person holds exactly the same.
        let fresh = enrolled_device(&world.server, &d.user).await;
        sync_once(&fresh.store, &fresh.client, Utc::now()).await.unwrap();
        assert_eq!(holdings(d), holdings(&fresh), "device {n} holds what a fresh device of its user pulls");
    }
}

#[test]
fn no_mutation_stalls_an_outbox_and_every_fate_is_known() {
    let ops = prop::collection::vec(op(), 1..30);
    run_property("FIELDBOOK_OUTBOX_CASES", 300, world(), ops, |runtime, world, ops| {
        runtime.block_on(run_case(world, ops))
    });
}
