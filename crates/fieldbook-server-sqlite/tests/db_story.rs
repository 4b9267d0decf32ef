//! The behaviour story of the server's storage, told against `&dyn Database` so that every
//! backend (SQLite here; PostgreSQL later) can be held to it. Only the fixture at the bottom
//! knows it is SQLite: it opens a real file in a temporary folder and counts the rows of every
//! table through a second, read-only connection.
//!
//! Each test starts from the demo data set (60 work orders, three technicians and their
//! supervisor, each technician with one tablet) and tells one chapter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fieldbook_demo::{DemoData, DemoOptions};
use fieldbook_domain::{
    Answer, Assessment, BlobId, CheckOutcome, FaultLevel, FaultRecord, FaultRecordId, InspectionResult, MutationId,
    Note, NoteId, PartBilling, PartUsage, PartUsageId, Photo, ResultId, Role, Satisfaction, SignOff, SignOffId,
    StatusAction, TemplateId, UserId, WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus, templates,
};
use fieldbook_protocol::{
    DeviceInfo, MAX_CHUNK_BYTES, Mutation, MutationOp, Outcome, PartCatalogEntry, PushResponse,
    ResolvedBody as ChangeBody, ResolvedChange as Change, ReviewRequest, StatusStep, UpdateWorkOrder, UserInfo,
    WorkOrderFilter,
};
use fieldbook_server_db::{Database, DbError, NewDevice, ReferenceBatch, SupervisorChange, UserRecord};
use fieldbook_server_sqlite::SqliteDatabase;

/// Row counts of every table, by table name.
type Counts = BTreeMap<String, i64>;

// =============================================================================================
// The story, against any backend.
// =============================================================================================

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap()
}

fn at(minutes: i64) -> DateTime<Utc> {
    now() + Duration::minutes(minutes)
}

/// The people and devices every chapter starts with.
struct World {
    demo: DemoData,
    supervisor: UserInfo,
    techs: Vec<UserInfo>,
    tablets: Vec<DeviceInfo>,
}

impl World {
    fn everyone(&self) -> Vec<UserId> {
        std::iter::once(self.supervisor.id).chain(self.techs.iter().map(|t| t.id)).collect()
    }
}

fn record(info: UserInfo) -> UserRecord {
    UserRecord { info, password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into() }
}

fn reference_batch(demo: &DemoData) -> ReferenceBatch {
    let batch = &demo.batch;
    ReferenceBatch {
        policies: batch.policies.clone(),
        customers: batch.customers.clone(),
        sites: batch.sites.clone(),
        assets: batch.assets.clone(),
        templates: batch.templates.clone(),
        parts: batch
            .parts_catalog
            .iter()
            .map(|(number, name, approval, price)| PartCatalogEntry {
                part_number: number.clone(),
                name: name.clone(),
                needs_customer_approval: *approval,
                unit_price_cents: *price,
            })
            .collect(),
        work_orders: batch.work_orders.clone(),
    }
}

/// Creates the demo's people (supervisor first), one tablet per technician, and imports the
/// demo's reference data and work orders.
async fn setup(db: &dyn Database) -> World {
    let demo = fieldbook_demo::generate(&DemoOptions::new(60, now()));
    let s = &demo.supervisor;
    let supervisor = db
        .create_user(record(UserInfo {
            id: s.id,
            username: "supervisor".into(),
            name: s.name.clone(),
            staff_no: s.staff_no.clone(),
            role: Role::Supervisor,
            supervisor_id: None,
            disabled: false,
        }))
        .await
        .unwrap();
    let mut techs = Vec::new();
    let mut tablets = Vec::new();
    for (i, t) in demo.technicians.iter().enumerate() {
        let info = UserInfo {
            id: t.id,
            username: format!("tech{}", i + 1),
            name: t.name.clone(),
            staff_no: t.staff_no.clone(),
            role: Role::Technician,
            supervisor_id: Some(supervisor.id),
            disabled: false,
        };
        let created = db.create_user(record(info.clone())).await.unwrap();
        assert_eq!(created, info);
        techs.push(created);
        let tablet = db
            .create_device(NewDevice {
                id: format!("tablet-{}", i + 1),
                user_id: t.id,
                name: format!("{}的平板", t.name),
                token_hash: format!("token-hash-{}", i + 1),
                enrolled_at: at(-60),
                public_key: None,
            })
            .await
            .unwrap();
        tablets.push(tablet);
    }
    db.import(reference_batch(&demo)).await.unwrap();
    World { demo, supervisor, techs, tablets }
}

/// Every change in a user's stream, read in pages of `page`.
async fn pull_all(db: &dyn Database, user: UserId, page: u32) -> Vec<Change> {
    let mut changes: Vec<Change> = Vec::new();
    let mut after = 0;
    loop {
        let response = db.pull(user, after, page).await.unwrap();
        assert!(response.changes.len() <= page as usize);
        if let Some(last) = response.changes.last() {
            assert_eq!(response.cursor, last.version, "the cursor is the last version returned");
        } else {
            assert_eq!(response.cursor, after, "an empty page keeps the cursor");
        }
        changes.extend(response.resolved());
        if !response.more {
            return changes;
        }
        after = response.cursor;
    }
}

/// What a device would see of everyone, plus every table's row count.
async fn snapshot(db: &dyn Database, world: &World, counts: &dyn Fn() -> Counts) -> (Counts, Vec<Vec<Change>>) {
    let mut streams = Vec::new();
    for user in world.everyone() {
        streams.push(pull_all(db, user, 1000).await);
    }
    (counts(), streams)
}

fn count(counts: &Counts, table: &str) -> i64 {
    *counts.get(table).unwrap_or_else(|| panic!("no table {table} in {counts:?}"))
}

/// The difference of every table's row count from `before` to `after`, zero entries left out.
fn growth(before: &Counts, after: &Counts) -> BTreeMap<String, i64> {
    after
        .iter()
        .map(|(table, n)| (table.clone(), n - before.get(table).copied().unwrap_or(0)))
        .filter(|(_, d)| *d != 0)
        .collect()
}

fn grew(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
}

/// A fresh patrol work order with the general checklist, assigned (or new when unassigned).
fn new_work_order(world: &World, n: usize, assignee: Option<UserId>) -> WorkOrder {
    let base = world.demo.batch.work_orders[0].clone();
    WorkOrder {
        id: WorkOrderId::new(),
        number: format!("WO-TEST-{n:04}"),
        kind: WorkOrderKind::Patrol,
        symptom: "月度例行巡检".into(),
        assignee,
        status: if assignee.is_some() { WorkOrderStatus::Assigned } else { WorkOrderStatus::New },
        template_id: Some(templates::general_patrol().id),
        reported_at: at(n as i64),
        responded_at: None,
        arrived_at: None,
        completed_at: None,
        status_note: None,
        visit_version: 0,
        ..base
    }
}

fn status(work_order: WorkOrderId, action: StatusAction, when: DateTime<Utc>) -> MutationOp {
    MutationOp::Status(StatusStep { work_order_id: work_order, action, at: when })
}

fn note(work_order: WorkOrderId, author: UserId, text: &str) -> MutationOp {
    MutationOp::Note(Note {
        id: NoteId::new(),
        work_order_id: work_order,
        author: Some(author),
        text: text.into(),
        written_at: at(5),
    })
}

fn answer(work_order: WorkOrderId, item: &str, answer: Answer, assessment: Assessment) -> MutationOp {
    MutationOp::InspectionResult(InspectionResult {
        id: ResultId::new(),
        work_order_id: work_order,
        item_key: item.into(),
        answer,
        assessment,
        note: String::new(),
        recorded_at: at(20),
        hlc: fieldbook_domain::Hlc::at(at(20).timestamp_millis()),
        supersedes: None,
    })
}

/// Numbers `ops` from `first` with fresh mutation ids.
fn numbered(first: u64, ops: Vec<MutationOp>) -> Vec<Mutation> {
    ops.into_iter()
        .enumerate()
        .map(|(i, op)| Mutation {
            seq: first + i as u64,
            id: MutationId::new(),
            hlc: fieldbook_domain::Hlc::at(i as i64),
            op,
        })
        .collect()
}

fn outcomes(response: &PushResponse) -> Vec<Outcome> {
    response.outcomes.iter().map(|o| o.outcome.clone()).collect()
}

fn rejected_code(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Rejected { code, .. } => code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn last_change(changes: &[Change]) -> &ChangeBody {
    &changes.last().expect("the stream has changes").body
}

fn bundle_of(body: &ChangeBody) -> &fieldbook_protocol::WorkOrderBundle {
    match body {
        ChangeBody::WorkOrder { bundle } => bundle,
        other => panic!("expected a work order bundle, got {other:?}"),
    }
}

/// Uploads `bytes` as `user`, in one chunk; returns its id.
async fn upload(db: &dyn Database, user: UserId, bytes: &[u8]) -> BlobId {
    let id = BlobId::of_bytes(bytes);
    assert!(db.upload_chunk(&id, user, 0, bytes.len() as u64, bytes).await.unwrap().complete);
    id
}

async fn device(db: &dyn Database, id: &str) -> DeviceInfo {
    db.devices().await.unwrap().into_iter().find(|d| d.id == id).expect("device listed")
}

// ---------------------------------------------------------------------------------------------

async fn users_devices_and_tokens(db: &dyn Database, world: &World) {
    let tech1 = &world.techs[0];
    // Names are unique.
    let mut twin = tech1.clone();
    twin.id = UserId::new();
    let err = db.create_user(record(twin.clone())).await.unwrap_err();
    assert!(matches!(&err, DbError::Conflict(m) if m.contains("user name 'tech1' is taken")), "{err}");
    assert!(db.user(twin.id).await.unwrap().is_none(), "the refused user was not stored");
    // A supervisor must exist.
    let mut orphan = twin.clone();
    orphan.username = "orphan".into();
    orphan.supervisor_id = Some(UserId::new());
    assert!(matches!(db.create_user(record(orphan)).await, Err(DbError::NotFound { what: "user", .. })));

    let stored = db.user_by_username("tech1").await.unwrap().expect("tech1 stored");
    assert_eq!(stored.info, *tech1);
    assert!(stored.password_hash.starts_with("$argon2id$"));
    assert!(db.user_by_username("nobody").await.unwrap().is_none());
    assert_eq!(db.user(world.supervisor.id).await.unwrap().as_ref(), Some(&world.supervisor));
    let names: Vec<String> = db.users().await.unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["supervisor", "tech1", "tech2", "tech3"]);

    // Devices and their tokens.
    let (tablet, owner) = db.device_by_token("token-hash-1").await.unwrap().expect("token of tablet-1");
    assert_eq!(tablet.id, "tablet-1");
    assert_eq!(tablet.user_id, tech1.id);
    assert_eq!(tablet.user_name, tech1.name);
    assert_eq!(tablet.name, format!("{}的平板", tech1.name));
    assert_eq!(tablet.enrolled_at, at(-60));
    assert_eq!((tablet.last_seq, tablet.last_sync_at, tablet.revoked_at), (0, None, None));
    assert_eq!(owner, *tech1);
    assert!(db.device_by_token("no-such-token").await.unwrap().is_none());
    let same_token = NewDevice {
        id: "tablet-x".into(),
        user_id: tech1.id,
        name: "copy".into(),
        token_hash: "token-hash-1".into(),
        enrolled_at: now(),
        public_key: None,
    };
    assert!(matches!(db.create_device(same_token).await, Err(DbError::Conflict(_))));
    let nobody = NewDevice {
        id: "tablet-y".into(),
        user_id: UserId::new(),
        name: "lost".into(),
        token_hash: "token-hash-y".into(),
        enrolled_at: now(),
        public_key: None,
    };
    assert!(matches!(db.create_device(nobody).await, Err(DbError::NotFound { what: "user", .. })));
    assert_eq!(db.devices().await.unwrap().len(), 3, "refused devices were not stored");

    // Revocation stops the token at once, keeps the first time, and needs a device.
    let spare = db
        .create_device(NewDevice {
            id: "phone-1".into(),
            user_id: tech1.id,
            name: "张伟's phone 📱".into(),
            token_hash: "token-hash-phone".into(),
            enrolled_at: now(),
            public_key: None,
        })
        .await
        .unwrap();
    assert!(db.device_by_token("token-hash-phone").await.unwrap().is_some());
    let revoked = db.revoke_device(&spare.id, at(1)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(1)));
    assert!(db.device_by_token("token-hash-phone").await.unwrap().is_none());
    assert_eq!(db.revoke_device(&spare.id, at(2)).await.unwrap().revoked_at, Some(at(1)));
    assert!(matches!(db.revoke_device("no-such-device", at(2)).await, Err(DbError::NotFound { what: "device", .. })));
    assert!(db.device_by_token("token-hash-1").await.unwrap().is_some(), "other devices keep working");

    // Disabling a user stops all their devices until enabled again.
    let tech3 = &world.techs[2];
    let disabled = db.set_user_disabled(tech3.id, true).await.unwrap();
    assert!(disabled.disabled);
    assert!(db.user(tech3.id).await.unwrap().unwrap().disabled);
    assert!(db.device_by_token("token-hash-3").await.unwrap().is_none());
    assert!(!db.set_user_disabled(tech3.id, false).await.unwrap().disabled);
    assert!(db.device_by_token("token-hash-3").await.unwrap().is_some());
    assert!(matches!(db.set_user_disabled(UserId::new(), true).await, Err(DbError::NotFound { .. })));

    // Syncs are noted, with what the device said it still holds; a device that says nothing
    // (an older app) leaves the last figure as it was.
    db.record_sync("tablet-2", at(3), Some(4)).await.unwrap();
    assert_eq!(device(db, "tablet-2").await.last_sync_at, Some(at(3)));
    assert_eq!(device(db, "tablet-2").await.pending, Some(4));
    db.record_sync("tablet-2", at(4), None).await.unwrap();
    assert_eq!(
        (device(db, "tablet-2").await.last_sync_at, device(db, "tablet-2").await.pending),
        (Some(at(4)), Some(4))
    );
    db.record_sync("tablet-2", at(5), Some(0)).await.unwrap();
    assert_eq!(device(db, "tablet-2").await.pending, Some(0));
    assert_eq!(device(db, "tablet-1").await.last_sync_at, None);
    assert_eq!(device(db, "tablet-1").await.pending, None);
    assert!(matches!(db.record_sync("no-such-device", at(3), None).await, Err(DbError::NotFound { .. })));
}

async fn the_demo_import(db: &dyn Database, world: &World, counts: &dyn Fn() -> Counts) {
    let batch = &world.demo.batch;
    assert_eq!(db.policies().await.unwrap().len(), batch.policies.len());
    let customers = db.customers().await.unwrap();
    assert_eq!(customers.len(), batch.customers.len());
    for c in &batch.customers {
        assert_eq!(db.customer(c.id).await.unwrap().as_ref(), Some(c));
        assert_eq!(db.policy(c.policy_id).await.unwrap().map(|p| p.id), Some(c.policy_id));
    }
    for s in &batch.sites {
        assert_eq!(db.site(s.id).await.unwrap().as_ref(), Some(s));
    }
    for a in &batch.assets {
        assert_eq!(db.asset(a.id).await.unwrap().as_ref(), Some(a));
    }
    let mut expected_templates = batch.templates.clone();
    expected_templates.sort_by(|a, b| (&a.code, a.version).cmp(&(&b.code, b.version)));
    assert_eq!(db.templates().await.unwrap(), expected_templates);
    assert_eq!(db.template(templates::general_patrol().id).await.unwrap(), Some(templates::general_patrol()));
    assert!(db.template(TemplateId::new()).await.unwrap().is_none());
    let parts = db.parts().await.unwrap();
    assert_eq!(parts.len(), batch.parts_catalog.len());
    assert!(parts.windows(2).all(|p| p[0].part_number < p[1].part_number));
    assert!(
        parts.iter().any(|p| p.part_number == "HK-HDD-4T" && p.needs_customer_approval && p.unit_price_cents == 68000)
    );
    for w in &batch.work_orders {
        assert_eq!(db.work_order(w.id).await.unwrap().as_ref(), Some(w));
    }

    // Each technician's stream holds exactly their work orders, bundled for offline work.
    for tech in &world.techs {
        let changes = pull_all(db, tech.id, 1000).await;
        let mine: Vec<&WorkOrder> = batch.work_orders.iter().filter(|w| w.assignee == Some(tech.id)).collect();
        assert_eq!(changes.len(), mine.len());
        for (change, w) in changes.iter().zip(&mine) {
            let bundle = bundle_of(&change.body);
            assert_eq!(bundle.work_order, **w);
            assert_eq!(bundle.customer.id, w.customer_id);
            assert_eq!(bundle.site.id, w.site_id);
            assert_eq!(bundle.asset.as_ref().map(|a| a.id), w.asset_id);
            assert_eq!(bundle.template.as_ref().map(|t| t.id), w.template_id);
            assert_eq!(bundle.policy.id, bundle.customer.policy_id);
            assert_eq!(bundle.assignee.as_ref(), Some(tech));
        }
    }
    // The supervisor's stream holds the whole team's work, each work order once.
    let team = pull_all(db, world.supervisor.id, 1000).await;
    let mut streamed: Vec<_> = team.iter().map(|c| bundle_of(&c.body).work_order.id).collect();
    let mut assigned: Vec<_> = batch.work_orders.iter().filter(|w| w.assignee.is_some()).map(|w| w.id).collect();
    streamed.sort();
    assigned.sort();
    assert_eq!(streamed, assigned, "the supervisor receives their team's work orders");

    // The same import again changes nothing.
    let before = snapshot(db, world, counts).await;
    db.import(reference_batch(&world.demo)).await.unwrap();
    assert_eq!(snapshot(db, world, counts).await, before);

    // A changed work order is re-streamed; a reassigned one is removed from the old assignee.
    let tech1 = world.techs[0].id;
    let tech2 = world.techs[1].id;
    let mut changed = batch.work_orders.iter().find(|w| w.assignee == Some(tech1)).unwrap().clone();
    changed.instructions = "带梯子 🪜".into();
    let mut moved = batch.work_orders.iter().rfind(|w| w.assignee == Some(tech1)).unwrap().clone();
    moved.assignee = Some(tech2);
    db.import(ReferenceBatch { work_orders: vec![changed.clone(), moved.clone()], ..Default::default() })
        .await
        .unwrap();
    let tech1_stream = pull_all(db, tech1, 1000).await;
    let tail = &tech1_stream[tech1_stream.len() - 2..];
    assert_eq!(bundle_of(&tail[0].body).work_order, changed);
    assert_eq!(tail[1].body, ChangeBody::Removed { work_order_id: moved.id });
    let tech2_stream = pull_all(db, tech2, 1000).await;
    assert_eq!(bundle_of(last_change(&tech2_stream)).work_order, moved);
    assert_eq!(db.work_order(changed.id).await.unwrap().unwrap().instructions, "带梯子 🪜");

    // Templates are never edited, and an import is all or nothing.
    let mut edited = templates::general_patrol();
    edited.items.pop();
    let newcomer = fieldbook_domain::Customer {
        id: fieldbook_domain::CustomerId::new(),
        name: "不该存在的客户".into(),
        address: "nowhere".into(),
        policy_id: batch.policies[0].id,
    };
    let before = snapshot(db, world, counts).await;
    let err = db
        .import(ReferenceBatch { customers: vec![newcomer.clone()], templates: vec![edited], ..Default::default() })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict(m) if m.contains("template versions are never edited; create a new version")),
        "{err}"
    );
    assert!(db.customer(newcomer.id).await.unwrap().is_none(), "the customer of the refused import was not stored");
    assert_eq!(snapshot(db, world, counts).await, before);
    let mut renumbered = templates::general_patrol();
    renumbered.id = TemplateId::new();
    assert!(matches!(
        db.import(ReferenceBatch { templates: vec![renumbered], ..Default::default() }).await,
        Err(DbError::Conflict(_))
    ));
    let mut next_version = templates::general_patrol();
    next_version.id = TemplateId::new();
    next_version.version = 2;
    db.import(ReferenceBatch { templates: vec![next_version.clone()], ..Default::default() }).await.unwrap();
    let versions: Vec<u32> =
        db.templates().await.unwrap().iter().filter(|t| t.code == "patrol.general").map(|t| t.version).collect();
    assert_eq!(versions, [1, 2]);
    // A work order naming a customer that is not stored is refused with what is missing.
    let mut stray = new_work_order(world, 900, Some(tech1));
    stray.customer_id = fieldbook_domain::CustomerId::new();
    let before = snapshot(db, world, counts).await;
    let err = db
        .import(ReferenceBatch { customers: vec![newcomer.clone()], work_orders: vec![stray], ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::NotFound { what: "customer", .. }), "{err}");
    assert_eq!(snapshot(db, world, counts).await, before);
}

async fn the_work_order_list(db: &dyn Database, world: &World) {
    let all = &world.demo.batch.work_orders;
    let listed = db.work_orders(&WorkOrderFilter::default(), None).await.unwrap();
    assert_eq!(listed.len(), all.len());
    assert!(listed.windows(2).all(|w| w[0].reported_at >= w[1].reported_at), "newest reported first");
    let limited = db.work_orders(&WorkOrderFilter { limit: Some(7), ..Default::default() }, None).await.unwrap();
    assert_eq!(limited, listed[..7]);
    let one = db.work_orders(&WorkOrderFilter { limit: Some(0), ..Default::default() }, None).await.unwrap();
    assert_eq!(one.len(), 1, "a limit of 0 is raised to 1");

    let open = db
        .work_orders(&WorkOrderFilter { status: Some(WorkOrderStatus::Assigned), ..Default::default() }, None)
        .await
        .unwrap();
    assert_eq!(open.len(), all.iter().filter(|w| w.status == WorkOrderStatus::Assigned).count());
    assert!(!open.is_empty() && open.iter().all(|w| w.status == WorkOrderStatus::Assigned));
    let tech2 = world.techs[1].id;
    let theirs = db.work_orders(&WorkOrderFilter { assignee: Some(tech2), ..Default::default() }, None).await.unwrap();
    assert_eq!(theirs.len(), all.iter().filter(|w| w.assignee == Some(tech2)).count());
    assert!(theirs.iter().all(|w| w.assignee == Some(tech2)));

    // A second team: its supervisor sees its work and the unassigned, not the first team's.
    let other_boss = db
        .create_user(record(UserInfo {
            id: UserId::new(),
            username: "supervisor2".into(),
            name: "周敏".into(),
            staff_no: "FB-S002".into(),
            role: Role::Supervisor,
            supervisor_id: None,
            disabled: false,
        }))
        .await
        .unwrap();
    let other_tech = db
        .create_user(record(UserInfo {
            id: UserId::new(),
            username: "tech4".into(),
            name: "吴强".into(),
            staff_no: "FB-T004".into(),
            role: Role::Technician,
            supervisor_id: Some(other_boss.id),
            disabled: false,
        }))
        .await
        .unwrap();
    let theirs = db.create_work_order(new_work_order(world, 1, Some(other_tech.id))).await.unwrap();
    let nobodys = db.create_work_order(new_work_order(world, 2, None)).await.unwrap();
    let team = db.work_orders(&WorkOrderFilter::default(), Some(world.supervisor.id)).await.unwrap();
    assert_eq!(team.len(), all.len() + 1);
    assert!(team.iter().any(|w| w.id == nobodys.id));
    assert!(!team.iter().any(|w| w.id == theirs.id));
    let other_team = db.work_orders(&WorkOrderFilter::default(), Some(other_boss.id)).await.unwrap();
    let ids: Vec<WorkOrderId> = other_team.iter().map(|w| w.id).collect();
    assert_eq!(ids, [nobodys.id, theirs.id], "newest reported first");
    // Creating streams the work order to its assignee only.
    let stream = pull_all(db, other_tech.id, 1000).await;
    assert_eq!(stream.len(), 1);
    assert_eq!(bundle_of(&stream[0].body).work_order, theirs);
    // Numbers are unique.
    let mut twin = new_work_order(world, 3, None);
    twin.number = theirs.number.clone();
    let err = db.create_work_order(twin.clone()).await.unwrap_err();
    assert!(matches!(&err, DbError::Conflict(m) if m.contains(&theirs.number)), "{err}");
    assert!(db.work_order(twin.id).await.unwrap().is_none());
}

async fn pull_pages(db: &dyn Database, world: &World) {
    let tech1 = world.techs[0].id;
    let whole = db.pull(tech1, 0, 1000).await.unwrap();
    assert!(!whole.more);
    let n = whole.changes.len() as u64;
    assert!(n >= 20, "tech1 has the demo's work orders");
    let versions: Vec<u64> = whole.changes.iter().map(|c| c.version).collect();
    assert_eq!(versions, (1..=n).collect::<Vec<_>>(), "versions count up from 1 without holes");
    assert_eq!(whole.cursor, n);

    // Pages of 7: no version skipped or repeated, `more` until the last page.
    let mut after = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = db.pull(tech1, after, 7).await.unwrap();
        pages += 1;
        seen.extend(page.changes.iter().map(|c| c.version));
        assert_eq!(page.more, page.cursor < n, "more is said exactly while changes remain");
        after = page.cursor;
        if !page.more {
            break;
        }
        assert_eq!(page.changes.len(), 7, "a page with more after it is full");
    }
    assert_eq!(seen, versions);
    assert_eq!(pages, n.div_ceil(7));
    let paged = pull_all(db, tech1, 7).await;
    assert_eq!(paged, whole.resolved());

    // A page that ends exactly at the last change says there is no more.
    let exact = db.pull(tech1, n - 7, 7).await.unwrap();
    assert_eq!((exact.changes.len(), exact.cursor, exact.more), (7, n, false));
    let exact = db.pull(tech1, n - 8, 7).await.unwrap();
    assert_eq!((exact.changes.len(), exact.cursor, exact.more), (7, n - 1, true));
    // Past the end: nothing, and the cursor stays.
    let end = db.pull(tech1, n, 50).await.unwrap();
    assert_eq!((end.changes.len(), end.cursor, end.more), (0, n, false));
    // Beyond it: refused, so that a device whose cursor this stream never handed out (a
    // server restored from a backup) pulls everything again instead of waiting forever.
    let beyond = db.pull(tech1, n + 100, 50).await.unwrap_err();
    assert!(matches!(beyond, DbError::CursorAhead { cursor, head } if cursor == n + 100 && head == n), "{beyond}");
    // A limit of 0 is raised to 1.
    let single = db.pull(tech1, 3, 0).await.unwrap();
    assert_eq!(single.changes.iter().map(|c| c.version).collect::<Vec<_>>(), [4]);
    assert!(single.more);
    // Streams are per user.
    let other = db.pull(world.techs[1].id, 0, 1000).await.unwrap();
    assert!(other.resolved().iter().all(|c| bundle_of(&c.body).work_order.assignee == Some(world.techs[1].id)));
    assert!(db.pull(UserId::new(), 0, 10).await.unwrap().changes.is_empty());
}

async fn push_every_kind_of_record(db: &dyn Database, world: &World, counts: &dyn Fn() -> Counts) {
    let tech1 = &world.techs[0];
    let tablet = &world.tablets[0];
    let template = templates::general_patrol();
    let work_order = db.create_work_order(new_work_order(world, 10, Some(tech1.id))).await.unwrap();
    let id = work_order.id;
    let photo = upload(db, tech1.id, b"overview photo").await;
    let signature = upload(db, tech1.id, b"signature").await;
    let ops = vec![
        status(id, StatusAction::SetOff, at(10)),
        status(id, StatusAction::Arrive, at(40)),
        answer(id, "look.four_no_dust", Answer::Check(CheckOutcome::Normal), Assessment::Normal),
        answer(id, "test.cabinet_temp", Answer::Reading(58.5), Assessment::Abnormal),
        MutationOp::FaultRecord(FaultRecord {
            id: FaultRecordId::new(),
            work_order_id: id,
            symptom: "机柜温度过高".into(),
            cause: "风扇停转".into(),
            action: "更换风扇".into(),
            result: "温度恢复正常".into(),
            category: "cooling".into(),
            started_at: Some(at(41)),
            ended_at: Some(at(70)),
            loaner_provided_at: None,
            recorded_at: at(70),
            supersedes: None,
        }),
        MutationOp::PartUsage(PartUsage {
            id: PartUsageId::new(),
            work_order_id: id,
            part_number: "HK-PSU-12V2A".into(),
            name: "12V 2A 摄像机电源适配器".into(),
            quantity: 2,
            serial: "NP123456".into(),
            billing: PartBilling::Paid { unit_price_cents: 4500 },
            old_part_returned: true,
            needs_customer_approval: false,
            recorded_at: at(71),
            supersedes: None,
            billing_reason: None,
        }),
        MutationOp::Photo(Photo {
            blob: photo.clone(),
            work_order_id: id,
            item_key: Some("look.overview_photo".into()),
            caption: "机房全景".into(),
            taken_at: at(72),
        }),
        note(id, tech1.id, "客户要求下周复查 👍"),
        MutationOp::SignOff(SignOff {
            id: SignOffId::new(),
            work_order_id: id,
            signer_name: "王经理".into(),
            opinion: "服务及时,处理专业。".into(),
            satisfaction: Satisfaction::try_from(5).unwrap(),
            signature: signature.clone(),
            strokes: None,
            signed_at: at(80),
        }),
        status(id, StatusAction::Complete, at(80)),
    ];
    let batch = numbered(1, ops.clone());
    let stream_before = pull_all(db, tech1.id, 1000).await;
    let before = counts();
    let response = db.push(tablet, tech1, &batch, at(81)).await.unwrap();
    assert_eq!(response.acked_through, 10);
    assert_eq!(response.outcomes.iter().map(|o| o.seq).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    assert_eq!(outcomes(&response), vec![Outcome::Applied; 10]);
    let after_one = counts();
    // Each change reaches tech1's stream and their supervisor's.
    assert_eq!(growth(&before, &after_one), grew(&[("changes", 20), ("mutations", 10), ("records", 7)]));

    let stored = db.work_order(id).await.unwrap().unwrap();
    assert_eq!(stored.status, WorkOrderStatus::Completed);
    assert_eq!(
        (stored.responded_at, stored.arrived_at, stored.completed_at),
        (Some(at(10)), Some(at(40)), Some(at(80)))
    );
    let synced = device(db, &tablet.id).await;
    assert_eq!((synced.last_seq, synced.last_sync_at), (10, Some(at(81))));

    // The assignee's stream: the work order after each status step, each record as pushed.
    let stream = pull_all(db, tech1.id, 1000).await;
    let new = &stream[stream_before.len()..];
    assert_eq!(new.len(), 10);
    for (change, op) in new.iter().zip(&ops) {
        match op {
            MutationOp::Status(step) => {
                let bundle = bundle_of(&change.body);
                assert_eq!(bundle.work_order.id, id);
                assert_eq!(bundle.template.as_ref(), Some(&template));
                assert_eq!(bundle.assignee.as_ref(), Some(tech1));
                let expected = match step.action {
                    StatusAction::SetOff => WorkOrderStatus::EnRoute,
                    StatusAction::Arrive => WorkOrderStatus::OnSite,
                    _ => WorkOrderStatus::Completed,
                };
                assert_eq!(bundle.work_order.status, expected);
            }
            record => assert_eq!(change.body, ChangeBody::Record { op: record.clone() }),
        }
    }
    // Blobs are traced to the work orders that use them.
    assert_eq!(db.blob_work_orders(&photo).await.unwrap(), [id]);
    assert_eq!(db.blob_work_orders(&signature).await.unwrap(), [id]);
    assert!(db.blob_work_orders(&BlobId::of_bytes(b"unused")).await.unwrap().is_empty());

    // The same push again: every mutation answered as already applied, nothing changes.
    let once = snapshot(db, world, counts).await;
    let again = db.push(tablet, tech1, &batch, at(90)).await.unwrap();
    assert_eq!(again.acked_through, 10);
    assert_eq!(outcomes(&again), vec![Outcome::AlreadyApplied; 10]);
    assert_eq!(snapshot(db, world, counts).await, once);
    assert_eq!(db.work_order(id).await.unwrap().unwrap(), stored);

    // A push whose answer was lost, sent again: the database ends as after one push.
    let notes = numbered(11, (0..3).map(|i| note(id, tech1.id, &format!("补充说明 {i}"))).collect());
    let before_notes = snapshot(db, world, counts).await;
    let first = db.push(tablet, tech1, &notes, at(91)).await.unwrap();
    assert_eq!(outcomes(&first), vec![Outcome::Applied; 3]);
    let after_notes = snapshot(db, world, counts).await;
    // Each note to tech1 and to their supervisor.
    assert_eq!(growth(&before_notes.0, &after_notes.0), grew(&[("changes", 6), ("mutations", 3), ("records", 3)]));
    let retried = db.push(tablet, tech1, &notes, at(92)).await.unwrap();
    assert_eq!(retried, PushResponse { acked_through: 13, outcomes: retried.outcomes.clone() });
    assert_eq!(outcomes(&retried), vec![Outcome::AlreadyApplied; 3]);
    assert_eq!(snapshot(db, world, counts).await, after_notes);
    // A shorter retry is acknowledged through its own last number, not the server's: the
    // device keeps 13 until an answer carries its outcome.
    let shorter = db.push(tablet, tech1, &notes[..2], at(92)).await.unwrap();
    assert_eq!((shorter.acked_through, outcomes(&shorter)), (12, vec![Outcome::AlreadyApplied; 2]));
    // A retry that overlaps the stored numbers and carries new ones.
    let mut overlap = notes[1..].to_vec();
    overlap.extend(numbered(14, vec![note(id, tech1.id, "最后一条")]));
    let mixed = db.push(tablet, tech1, &overlap, at(93)).await.unwrap();
    assert_eq!(mixed.acked_through, 14);
    assert_eq!(outcomes(&mixed), [Outcome::AlreadyApplied, Outcome::AlreadyApplied, Outcome::Applied]);
    assert_eq!(growth(&after_notes.0, &counts()), grew(&[("changes", 2), ("mutations", 1), ("records", 1)]));

    // The same mutation id under a new number (or from another device) is applied once.
    let repeated = Mutation { seq: 15, id: overlap[2].id, hlc: overlap[2].hlc, op: overlap[2].op.clone() };
    let before = counts();
    let response = db.push(tablet, tech1, std::slice::from_ref(&repeated), at(94)).await.unwrap();
    assert_eq!((response.acked_through, outcomes(&response)), (15, vec![Outcome::AlreadyApplied]));
    assert_eq!(growth(&before, &counts()), grew(&[("mutations", 1)]));
    assert_eq!(device(db, &tablet.id).await.last_seq, 15);
    let phone = db
        .create_device(NewDevice {
            id: "phone-1".into(),
            user_id: tech1.id,
            name: "phone".into(),
            token_hash: "token-hash-phone".into(),
            enrolled_at: now(),
            public_key: None,
        })
        .await
        .unwrap();
    let before = counts();
    let response = db.push(&phone, tech1, &[Mutation { seq: 1, ..repeated }], at(95)).await.unwrap();
    assert_eq!(outcomes(&response), [Outcome::AlreadyApplied]);
    assert_eq!(growth(&before, &counts()), grew(&[("mutations", 1)]));
    // An empty push stores nothing and acknowledges nothing: an answer never acknowledges past
    // the batch it answers.
    let empty = db.push(tablet, tech1, &[], at(96)).await.unwrap();
    assert_eq!(empty, PushResponse { acked_through: 0, outcomes: vec![] });
}

async fn refusals_change_nothing_but_the_conflict_log(db: &dyn Database, world: &World, counts: &dyn Fn() -> Counts) {
    let (tech1, tech2) = (&world.techs[0], &world.techs[1]);
    let (tablet1, tablet2) = (&world.tablets[0], &world.tablets[1]);
    let mine = db.create_work_order(new_work_order(world, 20, Some(tech1.id))).await.unwrap();
    let first =
        db.push(tablet1, tech1, &numbered(1, vec![note(mine.id, tech1.id, "到达前电话确认")]), at(1)).await.unwrap();
    assert_eq!(outcomes(&first), [Outcome::Applied]);

    // A gap is refused with the number to resend from, and nothing is written.
    let before = snapshot(db, world, counts).await;
    let err = db.push(tablet1, tech1, &numbered(3, vec![note(mine.id, tech1.id, "跳号")]), at(2)).await.unwrap_err();
    assert!(matches!(err, DbError::Gap { resend_from: 2, got: 3 }), "{err}");
    let mut holed = numbered(2, vec![note(mine.id, tech1.id, "二"), note(mine.id, tech1.id, "三")]);
    holed[1].seq = 4;
    let err = db.push(tablet1, tech1, &holed, at(2)).await.unwrap_err();
    assert!(matches!(err, DbError::Gap { resend_from: 2, got: 4 }), "{err}");
    assert!(matches!(
        db.push(tablet1, tech1, &numbered(0, vec![note(mine.id, tech1.id, "零")]), at(2)).await,
        Err(DbError::Malformed(_))
    ));
    assert_eq!(snapshot(db, world, counts).await, before);
    assert_eq!(device(db, &tablet1.id).await.last_seq, 1);
    assert_eq!(device(db, &tablet1.id).await.last_sync_at, Some(at(1)), "a refused push is not a sync");

    // Another technician's work order: rejected, kept as a conflict, nothing else changes.
    let before = snapshot(db, world, counts).await;
    let foreign = numbered(1, vec![note(mine.id, tech2.id, "不是我的工单")]);
    let response = db.push(tablet2, tech2, &foreign, at(3)).await.unwrap();
    assert_eq!(response.acked_through, 1, "a rejection is acknowledged; the device never resends it");
    assert_eq!(rejected_code(&response.outcomes[0].outcome), "forbidden");
    let after = snapshot(db, world, counts).await;
    assert_eq!(growth(&before.0, &after.0), grew(&[("conflicts", 1), ("mutations", 1)]));
    assert_eq!(after.1, before.1, "no stream changed");
    assert_eq!(db.work_order(mine.id).await.unwrap().unwrap(), mine);
    // Sent again, the stored rejection is the answer; no second conflict.
    let again = db.push(tablet2, tech2, &foreign, at(4)).await.unwrap();
    assert_eq!(again.outcomes, response.outcomes);
    assert_eq!(snapshot(db, world, counts).await, after);

    // A step the state machine refuses, a step that is not a technician's, an unknown work
    // order, and an answer assessed wrongly: each rejected with its code.
    let before = snapshot(db, world, counts).await;
    let batch = numbered(
        2,
        vec![
            status(mine.id, StatusAction::Arrive, at(5)),
            status(mine.id, StatusAction::Approve, at(5)),
            note(WorkOrderId::new(), tech1.id, "工单不存在"),
            status(mine.id, StatusAction::SetOff, at(6)),
            answer(mine.id, "test.cabinet_temp", Answer::Reading(58.5), Assessment::Normal),
            answer(mine.id, "look.no_such_item", Answer::Check(CheckOutcome::Normal), Assessment::Normal),
        ],
    );
    let response = db.push(tablet1, tech1, &batch, at(6)).await.unwrap();
    let codes: Vec<&str> = response
        .outcomes
        .iter()
        .map(|o| if o.outcome == Outcome::Applied { "applied" } else { rejected_code(&o.outcome) })
        .collect();
    assert_eq!(codes, ["rule_violation", "forbidden", "not_found", "applied", "invalid_input", "invalid_input"]);
    let after = snapshot(db, world, counts).await;
    // The set-off streams the work order; so does each refusal of a change to it (the device
    // applied the refused change locally and needs the server's version back): 1 + 4 changes,
    // each to tech1 and to their supervisor.
    assert_eq!(growth(&before.0, &after.0), grew(&[("changes", 10), ("conflicts", 5), ("mutations", 6)]));
    assert_eq!(
        db.work_order(mine.id).await.unwrap().unwrap().status,
        WorkOrderStatus::EnRoute,
        "only the set-off applied"
    );

    // Once signed, the visit takes no more facts (notes excepted): within the same push and
    // in a later one.
    let signed = db.create_work_order(new_work_order(world, 21, Some(tech1.id))).await.unwrap();
    upload(db, tech1.id, b"signature").await;
    let sign_off = |at_minute| {
        MutationOp::SignOff(SignOff {
            id: SignOffId::new(),
            work_order_id: signed.id,
            signer_name: "赵主任".into(),
            opinion: "满意".into(),
            satisfaction: Satisfaction::try_from(4).unwrap(),
            signature: BlobId::of_bytes(b"signature"),
            strokes: None,
            signed_at: at(at_minute),
        })
    };
    let photo = MutationOp::Photo(Photo {
        blob: BlobId::of_bytes(b"late photo"),
        work_order_id: signed.id,
        item_key: None,
        caption: String::new(),
        taken_at: at(31),
    });
    let batch = numbered(
        8,
        vec![
            status(signed.id, StatusAction::SetOff, at(10)),
            status(signed.id, StatusAction::Arrive, at(20)),
            sign_off(30),
            note(signed.id, tech1.id, "签字后的备注"),
            photo,
        ],
    );
    let response = db.push(tablet1, tech1, &batch, at(31)).await.unwrap();
    assert_eq!(outcomes(&response)[..4], vec![Outcome::Applied; 4]);
    assert_eq!(rejected_code(&response.outcomes[4].outcome), "visit_locked");
    let later = db.push(tablet1, tech1, &numbered(13, vec![sign_off(32)]), at(32)).await.unwrap();
    assert_eq!(rejected_code(&later.outcomes[0].outcome), "visit_locked");
    assert!(db.blob_work_orders(&BlobId::of_bytes(b"late photo")).await.unwrap().is_empty());
}

/// An id that shares its last six hex digits with `twin`'s, so both start from one number.
fn twin_id(twin: WorkOrderId) -> WorkOrderId {
    let fresh = WorkOrderId::new().to_string();
    let theirs = twin.to_string();
    format!("{}{}", &fresh[..fresh.len() - 6], &theirs[theirs.len() - 6..]).parse().unwrap()
}

fn corrective(parent: WorkOrderId, id: WorkOrderId, by: UserId) -> MutationOp {
    MutationOp::CorrectiveRequest(fieldbook_domain::CorrectiveRequest {
        id,
        work_order_id: parent,
        item_key: None,
        fault_level: FaultLevel::Major,
        symptom: "风扇异响，需更换".into(),
        requested_by: Some(by),
        requested_at: at(30),
    })
}

async fn one_mutation_never_holds_up_the_rest(db: &dyn Database, world: &World, counts: &dyn Fn() -> Counts) {
    let tech1 = &world.techs[0];
    let tablet = &world.tablets[0];
    let visit = db.create_work_order(new_work_order(world, 40, Some(tech1.id))).await.unwrap();
    let arrive = numbered(
        1,
        vec![status(visit.id, StatusAction::SetOff, at(10)), status(visit.id, StatusAction::Arrive, at(20))],
    );
    assert_eq!(outcomes(&db.push(tablet, tech1, &arrive, at(20)).await.unwrap()), vec![Outcome::Applied; 2]);

    // Two corrective requests of one day whose ids end alike: both start from one number, the
    // second is stored under the next. A third names an id that is already a work order's: it
    // alone is refused, and the note after it is applied.
    let first = WorkOrderId::new();
    let second = twin_id(first);
    let before = snapshot(db, world, counts).await;
    let batch = numbered(
        3,
        vec![
            corrective(visit.id, first, tech1.id),
            corrective(visit.id, second, tech1.id),
            corrective(visit.id, visit.id, tech1.id),
            note(visit.id, tech1.id, "请主管安排更换风扇"),
        ],
    );
    let response = db.push(tablet, tech1, &batch, at(31)).await.unwrap();
    assert_eq!(response.acked_through, 6);
    assert_eq!(outcomes(&response)[..2], [Outcome::Applied, Outcome::Applied]);
    assert_eq!(rejected_code(&response.outcomes[2].outcome), "id_taken");
    assert_eq!(response.outcomes[3].outcome, Outcome::Applied);
    let (a, b) = (db.work_order(first).await.unwrap().unwrap(), db.work_order(second).await.unwrap().unwrap());
    let numbers: Vec<String> = fieldbook_domain::work_order::numbers_for("WO", second, at(30)).take(2).collect();
    assert_eq!(a.number, numbers[0]);
    assert_eq!(b.number, numbers[1], "the second takes the next number of its id");
    assert_eq!(db.work_order(visit.id).await.unwrap().unwrap().kind, WorkOrderKind::Patrol, "the visit is untouched");
    // What the refused request had begun to write is gone: two work orders, three records
    // (two requests and the note), one conflict.
    let after = counts();
    assert_eq!(count(&after, "work_orders") - count(&before.0, "work_orders"), 2);
    assert_eq!(count(&after, "records") - count(&before.0, "records"), 3);
    assert_eq!(count(&after, "conflicts") - count(&before.0, "conflicts"), 1);

    // A supervisor's call recorded offline under an id ending like the first request's: stored
    // under the id's next number, not refused.
    let boss_tablet = db
        .create_device(NewDevice {
            id: "boss-tablet".into(),
            user_id: world.supervisor.id,
            name: "主管的平板".into(),
            token_hash: "token-hash-boss".into(),
            enrolled_at: at(-60),
            public_key: None,
        })
        .await
        .unwrap();
    let call_id = twin_id(first);
    let call = fieldbook_domain::CreateWorkOrder {
        customer_id: visit.customer_id,
        site_id: visit.site_id,
        asset_id: visit.asset_id,
        contact: visit.contact.clone(),
        kind: WorkOrderKind::Repair,
        fault_level: FaultLevel::Major,
        symptom: "客户来电：设备报警".into(),
        reported_by: "客户".into(),
        reported_at: Some(at(30)),
        assignee: Some(tech1.id),
        scheduled_for: None,
        billing: visit.billing,
        instructions: String::new(),
        template_id: None,
    };
    let create = MutationOp::Dispatch(fieldbook_domain::Dispatch {
        work_order_id: call_id,
        at: at(32),
        action: fieldbook_domain::DispatchAction::Create(Box::new(call.clone())),
    });
    let response = db.push(&boss_tablet, &world.supervisor, &numbered(1, vec![create]), at(32)).await.unwrap();
    assert_eq!(outcomes(&response), [Outcome::Applied]);
    let stored = db.work_order(call_id).await.unwrap().unwrap();
    assert_eq!(stored.number, fieldbook_domain::work_order::numbers_for("WO", call_id, at(30)).nth(1).unwrap());
    // The same call under an id already taken is that step's refusal, not the push's.
    let again = MutationOp::Dispatch(fieldbook_domain::Dispatch {
        work_order_id: first,
        at: at(33),
        action: fieldbook_domain::DispatchAction::Create(Box::new(call)),
    });
    let response = db.push(&boss_tablet, &world.supervisor, &numbered(2, vec![again]), at(33)).await.unwrap();
    assert_eq!(rejected_code(&response.outcomes[0].outcome), "id_taken");
}

async fn replays_with_other_content_are_told_apart(db: &dyn Database, world: &World, counts: &dyn Fn() -> Counts) {
    let tech1 = &world.techs[0];
    let tablet = &world.tablets[0];
    let visit = db.create_work_order(new_work_order(world, 41, Some(tech1.id))).await.unwrap();
    let steps = numbered(
        1,
        vec![
            status(visit.id, StatusAction::SetOff, at(10)),
            status(visit.id, StatusAction::Arrive, at(20)),
            answer(visit.id, "look.four_no_dust", Answer::Check(CheckOutcome::Normal), Assessment::Normal),
        ],
    );
    assert_eq!(outcomes(&db.push(tablet, tech1, &steps, at(20)).await.unwrap()), vec![Outcome::Applied; 3]);
    let before = snapshot(db, world, counts).await;

    // Another change under a stored number: not `already_applied`, and nothing changes.
    let mut other = steps[2].clone();
    other.op = note(visit.id, tech1.id, "同一序号的另一条更改");
    let response = db.push(tablet, tech1, std::slice::from_ref(&other), at(21)).await.unwrap();
    assert_eq!(rejected_code(&response.outcomes[0].outcome), "mutation_mismatch");
    // The stored mutation's id under a new number with other content: refused and kept as a
    // conflict; the same content is still `already_applied`.
    let mut reused = numbered(4, vec![note(visit.id, tech1.id, "复用的变更编号")]);
    reused[0].id = steps[2].id;
    let response = db.push(tablet, tech1, &reused, at(22)).await.unwrap();
    assert_eq!(rejected_code(&response.outcomes[0].outcome), "mutation_mismatch");
    let after = snapshot(db, world, counts).await;
    assert_eq!(growth(&before.0, &after.0), grew(&[("conflicts", 1), ("mutations", 1)]));
    let mut same = steps[2].clone();
    same.seq = 5;
    let response = db.push(tablet, tech1, std::slice::from_ref(&same), at(23)).await.unwrap();
    assert_eq!(outcomes(&response), [Outcome::AlreadyApplied]);

    // A new answer under a stored answer's id: the stored one stays, the device is told.
    let MutationOp::InspectionResult(stored) = &steps[2].op else { unreachable!() };
    let mut changed = stored.clone();
    changed.answer = Answer::Check(CheckOutcome::Abnormal);
    changed.assessment = Assessment::Abnormal;
    let before = snapshot(db, world, counts).await;
    let response =
        db.push(tablet, tech1, &numbered(6, vec![MutationOp::InspectionResult(changed)]), at(24)).await.unwrap();
    assert_eq!(rejected_code(&response.outcomes[0].outcome), "id_taken");
    let after = snapshot(db, world, counts).await;
    assert_eq!(growth(&before.0, &after.0), grew(&[("conflicts", 1), ("mutations", 1)]));
    // The same answer under a new mutation (a device enrolled again): stored once, and the
    // device told it was there already.
    let response =
        db.push(tablet, tech1, &numbered(7, vec![MutationOp::InspectionResult(stored.clone())]), at(25)).await.unwrap();
    assert_eq!(outcomes(&response), [Outcome::AlreadyApplied]);
    assert_eq!(count(&counts(), "records"), count(&after.0, "records"));
}

async fn a_cursor_past_the_stream_is_refused(db: &dyn Database, world: &World) {
    let tech1 = &world.techs[0];
    let head = pull_all(db, tech1.id, 1000).await.last().map(|c| c.version).unwrap();
    assert!(db.pull(tech1.id, head, 100).await.unwrap().changes.is_empty(), "the head itself is a valid cursor");
    let err = db.pull(tech1.id, head + 1, 100).await.unwrap_err();
    assert!(matches!(err, DbError::CursorAhead { cursor, head: h } if cursor == head + 1 && h == head), "{err}");
    // A user with no stream yet has no changes: any cursor but 0 is past its end.
    let newcomer = UserId::new();
    assert!(db.pull(newcomer, 0, 100).await.unwrap().changes.is_empty());
    assert!(matches!(db.pull(newcomer, 7, 100).await, Err(DbError::CursorAhead { cursor: 7, head: 0 })));
}

async fn supervisor_changes_reach_the_right_streams(db: &dyn Database, world: &World, counts: &dyn Fn() -> Counts) {
    let (tech1, tech2) = (&world.techs[0], &world.techs[1]);
    let (tablet1, tablet2) = (&world.tablets[0], &world.tablets[1]);

    // Reassignment: the old assignee is told it is gone, the new one gets the bundle.
    let moving = db.create_work_order(new_work_order(world, 30, Some(tech1.id))).await.unwrap();
    let before = counts();
    let moved = db.change_work_order(moving.id, SupervisorChange::Assign(tech2.id), at(1)).await.unwrap();
    assert_eq!((moved.assignee, moved.status), (Some(tech2.id), WorkOrderStatus::Assigned));
    // A removal to tech1; the work order to tech2 and to their (same) supervisor.
    assert_eq!(growth(&before, &counts()), grew(&[("changes", 3)]));
    assert_eq!(*last_change(&pull_all(db, tech1.id, 1000).await), ChangeBody::Removed { work_order_id: moving.id });
    let bundle = bundle_of(last_change(&pull_all(db, tech2.id, 1000).await)).clone();
    assert_eq!(bundle.work_order, moved);
    assert_eq!(bundle.assignee.as_ref(), Some(tech2));
    let late =
        db.push(tablet1, tech1, &numbered(1, vec![note(moving.id, tech1.id, "离线时写的")]), at(2)).await.unwrap();
    assert_eq!(rejected_code(&late.outcomes[0].outcome), "forbidden");
    // Assigning an unassigned work order (which every supervisor received) removes it from no
    // one who still receives it: it goes to tech1 and their supervisor.
    let fresh = db.create_work_order(new_work_order(world, 31, None)).await.unwrap();
    let before = counts();
    db.change_work_order(fresh.id, SupervisorChange::Assign(tech1.id), at(3)).await.unwrap();
    assert_eq!(growth(&before, &counts()), grew(&[("changes", 2)]));
    assert!(matches!(
        db.change_work_order(fresh.id, SupervisorChange::Assign(UserId::new()), at(3)).await,
        Err(DbError::NotFound { what: "user", .. })
    ));
    assert!(matches!(
        db.change_work_order(WorkOrderId::new(), SupervisorChange::Assign(tech1.id), at(3)).await,
        Err(DbError::NotFound { what: "work order", .. })
    ));

    // A supervisor's update of the fault level moves the deadlines by the customer's policy.
    let policy = db.policy(db.customer(fresh.customer_id).await.unwrap().unwrap().policy_id).await.unwrap().unwrap();
    let update = UpdateWorkOrder {
        fault_level: Some(FaultLevel::Critical),
        instructions: Some("带备机".into()),
        ..Default::default()
    };
    let updated = db.change_work_order(fresh.id, SupervisorChange::Update(update), at(4)).await.unwrap();
    assert_eq!(updated.deadlines, policy.deadlines(FaultLevel::Critical, fresh.reported_at));
    assert_eq!(updated.instructions, "带备机");
    assert_eq!(bundle_of(last_change(&pull_all(db, tech1.id, 1000).await)).work_order, updated);

    // Cancel while on site: the technician is told, and a later answer is rejected.
    let visit = db.create_work_order(new_work_order(world, 32, Some(tech2.id))).await.unwrap();
    let steps =
        numbered(1, vec![status(visit.id, StatusAction::SetOff, at(5)), status(visit.id, StatusAction::Arrive, at(6))]);
    assert_eq!(outcomes(&db.push(tablet2, tech2, &steps, at(6)).await.unwrap()), vec![Outcome::Applied; 2]);
    let cancelled =
        db.change_work_order(visit.id, SupervisorChange::Cancel { reason: "客户取消 ❌".into() }, at(7)).await.unwrap();
    assert_eq!((cancelled.status, cancelled.status_note.as_deref()), (WorkOrderStatus::Cancelled, Some("客户取消 ❌")));
    assert_eq!(bundle_of(last_change(&pull_all(db, tech2.id, 1000).await)).work_order, cancelled);
    let before = snapshot(db, world, counts).await;
    let answer_late = numbered(
        3,
        vec![answer(visit.id, "look.four_no_dust", Answer::Check(CheckOutcome::Normal), Assessment::Normal)],
    );
    let response = db.push(tablet2, tech2, &answer_late, at(8)).await.unwrap();
    assert_eq!(rejected_code(&response.outcomes[0].outcome), "visit_locked");
    let after = snapshot(db, world, counts).await;
    // The refusal streams the cancelled work order back to the device that tried (and, as every
    // change of it, to the supervisor).
    assert_eq!(growth(&before.0, &after.0), grew(&[("changes", 2), ("conflicts", 1), ("mutations", 1)]));
    assert!(
        bundle_of(last_change(&pull_all(db, tech2.id, 1000).await)).work_order == cancelled,
        "the refusal sent the cancelled work order back to tech2"
    );
    // Cancelled is final.
    assert!(matches!(
        db.change_work_order(visit.id, SupervisorChange::Review(ReviewRequest::Approve), at(9)).await,
        Err(DbError::Rule(_))
    ));

    // Review: a completed visit is returned with a reason, and the technician is told.
    let done = db.create_work_order(new_work_order(world, 33, Some(tech2.id))).await.unwrap();
    let steps = numbered(
        4,
        vec![
            status(done.id, StatusAction::SetOff, at(10)),
            status(done.id, StatusAction::Arrive, at(11)),
            status(done.id, StatusAction::Complete, at(12)),
        ],
    );
    assert_eq!(outcomes(&db.push(tablet2, tech2, &steps, at(12)).await.unwrap()), vec![Outcome::Applied; 3]);
    let returned = db
        .change_work_order(
            done.id,
            SupervisorChange::Review(ReviewRequest::Return { reason: "缺少全景照片".into() }),
            at(13),
        )
        .await
        .unwrap();
    assert_eq!(returned.status, WorkOrderStatus::Returned);
    assert_eq!(bundle_of(last_change(&pull_all(db, tech2.id, 1000).await)).work_order, returned);
    let reopen = numbered(
        7,
        vec![status(done.id, StatusAction::Reopen, at(14)), status(done.id, StatusAction::Complete, at(15))],
    );
    assert_eq!(outcomes(&db.push(tablet2, tech2, &reopen, at(15)).await.unwrap()), vec![Outcome::Applied; 2]);
    let approved =
        db.change_work_order(done.id, SupervisorChange::Review(ReviewRequest::Approve), at(16)).await.unwrap();
    assert_eq!((approved.status, approved.completed_at), (WorkOrderStatus::Approved, Some(at(15))));
    assert_eq!(bundle_of(last_change(&pull_all(db, tech2.id, 1000).await)).work_order, approved);
}

async fn blobs_upload_in_chunks(db: &dyn Database, world: &World) {
    let (user, other_user) = (world.techs[0].id, world.techs[1].id);
    let bytes: Vec<u8> = (0..(2 * MAX_CHUNK_BYTES + 12_345)).map(|i| (i * 31 % 251) as u8).collect();
    let id = BlobId::of_bytes(&bytes);
    let total = bytes.len() as u64;
    let chunk = MAX_CHUNK_BYTES;
    let other = BlobId::of_bytes(b"never uploaded");
    assert_eq!(
        db.missing_blobs(&[id.clone(), other.clone(), id.clone()], user).await.unwrap(),
        [id.clone(), other.clone()]
    );
    assert!(db.upload_status(&id, user).await.unwrap().is_none());

    let first = db.upload_chunk(&id, user, 0, total, &bytes[..chunk]).await.unwrap();
    assert_eq!((first.received, first.total, first.complete), (chunk as u64, total, false));
    // A chunk that does not continue the upload is refused, and nothing changes.
    for wrong in [0, 2 * chunk as u64] {
        let err = db.upload_chunk(&id, user, wrong, total, &bytes[..10]).await.unwrap_err();
        assert!(
            matches!(err, DbError::WrongOffset { expected, got } if expected == chunk as u64 && got == wrong),
            "{err}"
        );
    }
    assert!(matches!(
        db.upload_chunk(&id, user, chunk as u64, total + 1, &bytes[chunk..chunk + 10]).await,
        Err(DbError::Conflict(_))
    ));
    // The connection dropped: the device asks where to resume.
    let status = db.upload_status(&id, user).await.unwrap().expect("upload in progress");
    assert_eq!(status, first);
    assert_eq!(
        db.missing_blobs(std::slice::from_ref(&id), user).await.unwrap(),
        vec![id.clone()],
        "a partial blob is still missing"
    );
    assert!(db.blob(&id).await.unwrap().is_none());
    let resume = status.received as usize;
    let second = db.upload_chunk(&id, user, resume as u64, total, &bytes[resume..resume + chunk]).await.unwrap();
    assert_eq!((second.received, second.complete), (2 * chunk as u64, false));
    let resume = second.received as usize;
    let last = db.upload_chunk(&id, user, resume as u64, total, &bytes[resume..]).await.unwrap();
    assert_eq!((last.received, last.total, last.complete), (total, total, true));
    assert_eq!(db.blob(&id).await.unwrap().as_deref(), Some(bytes.as_slice()));
    assert_eq!(db.upload_status(&id, user).await.unwrap(), Some(last.clone()));
    assert_eq!(db.missing_blobs(&[id.clone(), other.clone()], user).await.unwrap(), vec![other.clone()]);
    // Sending a stored blob again is answered as complete at once.
    assert_eq!(db.upload_chunk(&id, user, 0, total, &bytes[..100]).await.unwrap(), last);
    // To anyone else it is missing, with no upload under way: whether someone has a photo with
    // that hash is not told. Their own upload of the same bytes makes them hold it too, and the
    // blob is stored once.
    assert!(!db.holds_blob(&id, other_user).await.unwrap());
    assert_eq!(db.missing_blobs(std::slice::from_ref(&id), other_user).await.unwrap(), vec![id.clone()]);
    assert!(db.upload_status(&id, other_user).await.unwrap().is_none());
    let partial = db.upload_chunk(&id, other_user, 0, total, &bytes[..chunk]).await.unwrap();
    assert!(!partial.complete, "the bytes must all come from the one who names them");
    let mut at = chunk;
    while at < bytes.len() {
        let end = (at + chunk).min(bytes.len());
        db.upload_chunk(&id, other_user, at as u64, total, &bytes[at..end]).await.unwrap();
        at = end;
    }
    assert!(db.holds_blob(&id, other_user).await.unwrap());
    assert_eq!(db.blob(&id).await.unwrap().as_deref(), Some(bytes.as_slice()));

    // Bytes that do not hash to the id: the upload is discarded.
    let claimed = BlobId::of_bytes(b"what the device meant to send");
    let sent = b"what actually arrived, corrupted on the way".to_vec();
    let half = sent.len() / 2;
    db.upload_chunk(&claimed, user, 0, sent.len() as u64, &sent[..half]).await.unwrap();
    let err = db.upload_chunk(&claimed, user, half as u64, sent.len() as u64, &sent[half..]).await.unwrap_err();
    match err {
        DbError::HashMismatch { expected, actual } => {
            assert_eq!(expected, claimed.to_string());
            assert_eq!(actual, BlobId::of_bytes(&sent).to_string());
        }
        other => panic!("expected a hash mismatch, got {other}"),
    }
    assert!(db.upload_status(&claimed, user).await.unwrap().is_none(), "the upload was discarded");
    assert!(db.blob(&claimed).await.unwrap().is_none());
    // A single-chunk upload, and sizes that cannot be.
    let small = b"signature png".to_vec();
    let small_id = BlobId::of_bytes(&small);
    assert!(db.upload_chunk(&small_id, user, 0, small.len() as u64, &small).await.unwrap().complete);
    let odd = BlobId::of_bytes(b"odd");
    assert!(matches!(db.upload_chunk(&odd, user, 0, 0, &[]).await, Err(DbError::Conflict(_))));
    assert!(matches!(
        db.upload_chunk(&odd, user, 0, fieldbook_protocol::MAX_BLOB_BYTES + 1, b"x").await,
        Err(DbError::Conflict(_))
    ));
    assert!(
        matches!(db.upload_chunk(&odd, user, 0, 2, b"odd").await, Err(DbError::Conflict(_))),
        "longer than its total"
    );
    assert!(db.upload_status(&odd, user).await.unwrap().is_none());
}

async fn chinese_and_emoji_round_trip(db: &dyn Database, world: &World) {
    let name = "欧阳 娜娜 👩‍🔧 𠮷";
    let user = db
        .create_user(record(UserInfo {
            id: UserId::new(),
            username: "欧阳娜娜".into(),
            name: name.into(),
            staff_no: "FB-T-𠮷".into(),
            role: Role::Technician,
            supervisor_id: Some(world.supervisor.id),
            disabled: false,
        }))
        .await
        .unwrap();
    assert_eq!(db.user_by_username("欧阳娜娜").await.unwrap().unwrap().info.name, name);
    let tablet = db
        .create_device(NewDevice {
            id: "平板-🦊".into(),
            user_id: user.id,
            name: format!("{name}的平板"),
            token_hash: "令牌".into(),
            enrolled_at: now(),
            public_key: None,
        })
        .await
        .unwrap();
    assert_eq!((tablet.user_name.as_str(), tablet.name.as_str()), (name, format!("{name}的平板").as_str()));
    let mut work_order = new_work_order(world, 40, Some(user.id));
    work_order.symptom = "监控中心全部画面无图像 📹❌ — «Ünïcödé»".into();
    work_order.contact.name = "王经理 🧑‍💼".into();
    let work_order = db.create_work_order(work_order).await.unwrap();
    assert_eq!(db.work_order(work_order.id).await.unwrap().unwrap().symptom, "监控中心全部画面无图像 📹❌ — «Ünïcödé»");
    let text = "客户要求下周复查 👍🏽,备件:𠮷野家 🇨🇳";
    let pushed = numbered(1, vec![note(work_order.id, user.id, text)]);
    assert_eq!(outcomes(&db.push(&tablet, &user, &pushed, at(1)).await.unwrap()), [Outcome::Applied]);
    let stream = pull_all(db, user.id, 1000).await;
    assert_eq!(bundle_of(&stream[0].body).work_order.contact.name, "王经理 🧑‍💼");
    assert_eq!(bundle_of(&stream[0].body).assignee.as_ref().map(|a| a.name.as_str()), Some(name));
    match last_change(&stream) {
        ChangeBody::Record { op: MutationOp::Note(n) } => assert_eq!(n.text, text),
        other => panic!("expected the note, got {other:?}"),
    }
    let found = db.work_orders(&WorkOrderFilter { assignee: Some(user.id), ..Default::default() }, None).await.unwrap();
    assert_eq!(found, [work_order]);
}

/// Everything a person can see through the trait, for comparing before and after a reopen.
async fn visible_state(db: &dyn Database, world: &World) -> String {
    let mut out = String::new();
    out += &format!("{:?}\n", db.users().await.unwrap());
    out += &format!("{:?}\n", db.devices().await.unwrap());
    out += &format!("{:?}\n", db.policies().await.unwrap());
    out += &format!("{:?}\n", db.customers().await.unwrap());
    out += &format!("{:?}\n", db.templates().await.unwrap());
    out += &format!("{:?}\n", db.parts().await.unwrap());
    out += &format!(
        "{:?}\n",
        db.work_orders(&WorkOrderFilter { limit: Some(5000), ..Default::default() }, None).await.unwrap()
    );
    for user in world.everyone() {
        out += &format!("{:?}\n", pull_all(db, user, 1000).await);
    }
    out
}

// =============================================================================================
// The SQLite fixture.
// =============================================================================================

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    db: SqliteDatabase,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fieldbook-server.sqlite");
        let db = SqliteDatabase::open(&path).unwrap();
        Fixture { _dir: dir, path, db }
    }

    fn db(&self) -> &dyn Database {
        &self.db
    }

    fn counter(&self) -> impl Fn() -> Counts + use<> {
        let path = self.path.clone();
        move || row_counts(&path)
    }
}

/// Counts the rows of every table through a separate read-only connection.
fn row_counts(path: &Path) -> Counts {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = stmt.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    assert!(tables.len() >= 15, "every table is counted: {tables:?}");
    tables
        .into_iter()
        .map(|table| {
            let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |row| row.get(0)).unwrap();
            (table, n)
        })
        .collect()
}

#[tokio::test]
async fn users_devices_tokens_revocation_and_disabled_users() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    users_devices_and_tokens(f.db(), &world).await;
}

#[tokio::test]
async fn the_demo_import_streams_each_technician_their_work_all_or_nothing() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    let counts = f.counter();
    let imported = counts();
    assert_eq!(count(&imported, "work_orders"), 60);
    assert_eq!(
        count(&imported, "changes"),
        120,
        "one bundle per assigned work order, to its technician and supervisor"
    );
    assert_eq!(count(&imported, "streams"), 4);
    the_demo_import(f.db(), &world, &counts).await;
}

#[tokio::test]
async fn the_work_order_list_filters_sorts_and_limits_by_team() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    the_work_order_list(f.db(), &world).await;
}

#[tokio::test]
async fn pull_pages_never_skip_or_repeat_a_version() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    pull_pages(f.db(), &world).await;
}

#[tokio::test]
async fn a_push_applies_every_kind_of_record_exactly_once() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    push_every_kind_of_record(f.db(), &world, &f.counter()).await;
}

#[tokio::test]
async fn gaps_foreign_work_and_refused_steps_change_nothing_but_the_conflict_log() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    refusals_change_nothing_but_the_conflict_log(f.db(), &world, &f.counter()).await;
}

#[tokio::test]
async fn a_refused_number_or_id_is_that_mutations_outcome_and_the_rest_of_the_push_goes_on() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    one_mutation_never_holds_up_the_rest(f.db(), &world, &f.counter()).await;
}

#[tokio::test]
async fn a_replay_with_other_content_or_a_new_record_under_a_used_id_is_told_apart() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    replays_with_other_content_are_told_apart(f.db(), &world, &f.counter()).await;
}

#[tokio::test]
async fn a_pull_cursor_past_the_end_of_the_stream_is_refused() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    a_cursor_past_the_stream_is_refused(f.db(), &world).await;
}

#[tokio::test]
async fn reassignment_cancel_and_review_reach_the_right_streams() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    supervisor_changes_reach_the_right_streams(f.db(), &world, &f.counter()).await;
}

#[tokio::test]
async fn blobs_upload_in_chunks_resume_and_are_verified() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    blobs_upload_in_chunks(f.db(), &world).await;
}

#[tokio::test]
async fn chinese_and_emoji_text_round_trips_intact() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    chinese_and_emoji_round_trip(f.db(), &world).await;
}

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    push_every_kind_of_record(f.db(), &world, &f.counter()).await;
    let moved = world
        .demo
        .batch
        .work_orders
        .iter()
        .find(|w| w.status == WorkOrderStatus::Assigned && w.assignee == Some(world.techs[1].id))
        .unwrap();
    f.db.change_work_order(moved.id, SupervisorChange::Assign(world.techs[2].id), at(100)).await.unwrap();
    let bytes = b"a photo that must survive".to_vec();
    let blob = BlobId::of_bytes(&bytes);
    let uploader = world.techs[0].id;
    f.db.upload_chunk(&blob, uploader, 0, bytes.len() as u64, &bytes).await.unwrap();
    let partial = BlobId::of_bytes(b"0123456789");
    f.db.upload_chunk(&partial, uploader, 0, 10, b"01234").await.unwrap();
    let seen = visible_state(f.db(), &world).await;
    let rows = row_counts(&f.path);

    let Fixture { _dir, path, db } = f;
    drop(db);
    let reopened = SqliteDatabase::open(&path).unwrap();
    assert_eq!(visible_state(&reopened, &world).await, seen);
    assert_eq!(row_counts(&path), rows);
    assert_eq!(reopened.blob(&blob).await.unwrap(), Some(bytes));
    assert_eq!(reopened.upload_status(&partial, uploader).await.unwrap().map(|s| s.received), Some(5));
    let mode: String =
        rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // The device's numbering carries on where it was.
    let tablet = reopened.devices().await.unwrap().into_iter().find(|d| d.id == "tablet-1").unwrap();
    assert_eq!(tablet.last_seq, 15);
    let tech1 = &world.techs[0];
    let work_order = world.demo.batch.work_orders.iter().find(|w| w.assignee == Some(tech1.id)).unwrap().id;
    let err = reopened
        .push(&tablet, tech1, &numbered(17, vec![note(work_order, tech1.id, "跳号")]), at(200))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Gap { resend_from: 16, got: 17 }), "{err}");
    let next = reopened
        .push(&tablet, tech1, &numbered(16, vec![note(work_order, tech1.id, "重开后")]), at(200))
        .await
        .unwrap();
    assert_eq!((next.acked_through, outcomes(&next)), (16, vec![Outcome::Applied]));
}

/// Ingest: 10 batches of 500 notes from one tablet. The goal (≥ 10,000 mutations/s) is for
/// release builds; this prints the rate of whatever profile runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_of_500_mutations_ingest_quickly() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    let tech = &world.techs[0];
    let mine: Vec<WorkOrderId> =
        world.demo.batch.work_orders.iter().filter(|w| w.assignee == Some(tech.id)).map(|w| w.id).collect();
    let before = f.counter()();
    let start = Instant::now();
    for batch in 0..10u64 {
        let ops = (0..500)
            .map(|i| note(mine[i % mine.len()], tech.id, &format!("巡检记录 {batch}-{i}: 设备运行正常")))
            .collect();
        let response = f.db.push(&world.tablets[0], tech, &numbered(batch * 500 + 1, ops), at(1)).await.unwrap();
        assert_eq!(response.acked_through, (batch + 1) * 500);
        assert!(response.outcomes.iter().all(|o| o.outcome == Outcome::Applied));
    }
    let took = start.elapsed();
    // Each record reaches the technician's stream and their supervisor's.
    assert_eq!(growth(&before, &f.counter()()), grew(&[("changes", 10000), ("mutations", 5000), ("records", 5000)]));
    println!("ingest: 5000 mutations in {:.3} s = {:.0}/s", took.as_secs_f64(), 5000.0 / took.as_secs_f64());
}

/// A database from before protocol 5 held no supervisor streams; migration V5 streams every
/// work order and its records to the supervisor once, as if they had been streamed all along.
#[tokio::test]
async fn an_older_database_streams_the_team_to_its_supervisor_on_upgrade() {
    let f = Fixture::new();
    let world = setup(f.db()).await;
    let visit = world.demo.batch.work_orders.iter().find(|w| w.assignee.is_some()).unwrap().id;
    let tech = world.demo.batch.work_orders.iter().find(|w| w.id == visit).unwrap().assignee.unwrap();
    let index = world.techs.iter().position(|t| t.id == tech).unwrap();
    let (tech, tablet) = (&world.techs[index], &world.tablets[index]);
    let notes = numbered(1, vec![note(visit, tech.id, "升级前的记录")]);
    f.db.push(tablet, tech, &notes, at(5)).await.unwrap();
    let streamed = |changes: Vec<Change>| {
        let mut seen: Vec<String> = changes
            .iter()
            .map(|c| match &c.body {
                ChangeBody::WorkOrder { bundle } => format!("work order {}", bundle.work_order.id),
                ChangeBody::Record { op } => format!("record of {}", op.work_order_id()),
                ChangeBody::Removed { work_order_id } => format!("removed {work_order_id}"),
            })
            .collect();
        seen.sort();
        seen
    };
    let expected = streamed(pull_all(f.db(), world.supervisor.id, 1000).await);
    assert!(expected.contains(&format!("record of {visit}")));
    let path = f.path.clone();
    drop(f.db);
    {
        // The database as protocol 4 left it: no supervisor stream, schema version 4.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let supervisor = world.supervisor.id.to_string();
        conn.execute("DELETE FROM changes WHERE user_id = ?1", [&supervisor]).unwrap();
        conn.execute("DELETE FROM streams WHERE user_id = ?1", [&supervisor]).unwrap();
        // Nor the later schedules (V6), devices' pending counts (V7), mutations' digests (V9)
        // and blob holders with uploads per user (V10), and the streams laid out as before V8:
        // keyed by user and version.
        conn.execute_batch(
            "DROP TABLE schedule_runs; DROP TABLE schedules; ALTER TABLE devices DROP COLUMN pending;
             ALTER TABLE mutations DROP COLUMN digest;
             DROP TABLE blob_holders; DROP TABLE blob_uploads;
             CREATE TABLE blob_uploads (id TEXT PRIMARY KEY, total INTEGER NOT NULL, received INTEGER NOT NULL,
                                        data BLOB NOT NULL, updated_at INTEGER NOT NULL) STRICT;",
        )
        .unwrap();
        conn.execute_batch(
            "CREATE TABLE streams_v1 (user_id TEXT PRIMARY KEY REFERENCES users(id), version INTEGER NOT NULL) STRICT;
             INSERT INTO streams_v1 SELECT user_id, version FROM streams;
             CREATE TABLE changes_v1 (
                 user_id TEXT NOT NULL REFERENCES streams_v1(user_id), version INTEGER NOT NULL, body TEXT NOT NULL,
                 PRIMARY KEY (user_id, version)) STRICT;
             INSERT INTO changes_v1 SELECT user_id, version, body FROM changes;
             DROP TABLE changes; DROP TABLE streams;
             ALTER TABLE streams_v1 RENAME TO streams; ALTER TABLE changes_v1 RENAME TO changes;",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 4).unwrap();
    }
    let db = SqliteDatabase::open(&path).unwrap();
    assert_eq!(streamed(pull_all(&db, world.supervisor.id, 1000).await), expected);
    let tech_stream = pull_all(&db, tech.id, 1000).await;
    assert!(tech_stream.iter().all(|c| !matches!(&c.body, ChangeBody::Removed { .. })), "technicians are untouched");
}
