//! What crosses the network between a Fieldbook device and the server.
//!
//! Every request carries [`PROTOCOL_HEADER`] with [`PROTOCOL_VERSION`]; a server that speaks
//! another version refuses it with `protocol_mismatch` and a message telling the user to
//! update, and changes nothing. Records travel as the domain's own types: they are append-only
//! facts with ids made on the device, so the server stores exactly what the device made.

use chrono::{DateTime, Utc};
pub use fieldbook_domain::dispatch::{CreateWorkOrder, Dispatch, DispatchAction, ReviewRequest, UpdateWorkOrder};
use fieldbook_domain::evidence::{SignedReport, Verdict};
use fieldbook_domain::{
    Asset, BlobId, ChecklistTemplate, CorrectiveRequest, Customer, CustomerId, FaultRecord, Hlc, InspectionResult,
    MutationId, Note, PartUsage, Photo, PolicyId, Role, ServicePolicy, SignOff, Site, SiteId, StatusAction, UserId,
    WorkOrder, WorkOrderId, WorkOrderStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod wire;

/// The version of this protocol. Bumped on any incompatible change. Version 2: a pulled
/// work order carries ids, and each page carries the reference data its work orders name once.
/// Version 3: a pull page's compact layout (see `wire.rs`). Version 4: a device enrolls with
/// its report-signing key and pushes signed visit reports. Version 5: a supervisor's device
/// pushes dispatch steps, and supervisors receive their team's changes in their stream.
pub const PROTOCOL_VERSION: u32 = 5;
/// The request header that carries it.
pub const PROTOCOL_HEADER: &str = "fieldbook-protocol";
/// The largest push a server accepts, in mutations.
pub const MAX_PUSH_MUTATIONS: usize = 1000;
/// The largest page a pull returns.
pub const MAX_PULL_PAGE: u32 = 5000;
/// The largest chunk of a blob upload, in bytes.
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;
/// The largest blob (a photo or signature after processing), in bytes.
pub const MAX_BLOB_BYTES: u64 = 20 * 1024 * 1024;

/// Every error the server sends: `code` is for programs, `message` for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// With `409 sequence_gap` only: the mutation number to send again from (the server's next
    /// expected number); nothing of the refused push was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_from: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Enrollment

/// Signs a device in with a user's name and password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrollRequest {
    pub username: String,
    pub password: String,
    /// How the device shows in the supervisor's device list, e.g. "张伟's tablet".
    pub device_name: String,
    /// The device's Ed25519 public key (64 hex characters), with which it signs visit reports;
    /// the secret half never leaves the device.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserInfo {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub staff_no: String,
    pub role: Role,
    pub supervisor_id: Option<UserId>,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrollResponse {
    pub device_id: String,
    /// The bearer token of this device. Shown once; the server keeps only its hash.
    pub token: String,
    pub user: UserInfo,
    /// The last mutation number the server holds from this device: 0 for a new device; more
    /// when the same device (the same `public_key`) enrolled again. The device numbers its
    /// next change one above it.
    #[serde(default)]
    pub last_seq: u64,
}

// ---------------------------------------------------------------------------------------------
// Push

/// A status step taken on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusStep {
    pub work_order_id: WorkOrderId,
    pub action: StatusAction,
    pub at: DateTime<Utc>,
}

/// One change made on a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type", content = "record")]
pub enum MutationOp {
    InspectionResult(InspectionResult),
    FaultRecord(FaultRecord),
    PartUsage(PartUsage),
    Photo(Photo),
    Note(Note),
    SignOff(SignOff),
    Status(StatusStep),
    /// A corrective work order asked for from a visit; becomes a new work order.
    CorrectiveRequest(CorrectiveRequest),
    /// The signed visit report made at sign-off; the server checks it and appends it to the
    /// report ledger, and streams it as a record to everyone who holds the work order.
    Report(Box<SignedReport>),
    /// A supervisor's step: a new work order, an assignment, a schedule or level change, a
    /// cancel, or a review. Checked against the supervisor's team; streamed as the work order.
    Dispatch(Dispatch),
}

impl MutationOp {
    /// The work order the change belongs to.
    pub fn work_order_id(&self) -> WorkOrderId {
        match self {
            MutationOp::InspectionResult(r) => r.work_order_id,
            MutationOp::FaultRecord(r) => r.work_order_id,
            MutationOp::PartUsage(r) => r.work_order_id,
            MutationOp::Photo(r) => r.work_order_id,
            MutationOp::Note(r) => r.work_order_id,
            MutationOp::SignOff(r) => r.work_order_id,
            MutationOp::Status(s) => s.work_order_id,
            MutationOp::CorrectiveRequest(r) => r.work_order_id,
            MutationOp::Report(r) => r.document.visit.work_order.id,
            MutationOp::Dispatch(d) => d.work_order_id,
        }
    }

    /// The photos, signatures and pen strokes the change names, which must be on the server
    /// (uploaded by the pusher, or already on the work order) before it is pushed.
    pub fn blobs(&self) -> Vec<&BlobId> {
        match self {
            MutationOp::Photo(p) => vec![&p.blob],
            MutationOp::SignOff(s) => std::iter::once(&s.signature).chain(&s.strokes).collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Mutation {
    /// The device's own sequence number: 1, 2, 3, … with no gaps, never reused.
    #[schema(minimum = 1)]
    pub seq: u64,
    pub id: MutationId,
    /// The device's hybrid logical clock stamp of the change: audit order across one
    /// technician's devices. Never used to pick a winner between the server and a device.
    #[schema(value_type = String, pattern = "^[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{16}$")]
    pub hlc: Hlc,
    pub op: MutationOp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PushRequest {
    pub mutations: Vec<Mutation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Applied now.
    Applied,
    /// Applied by an earlier push (a retry); nothing changed.
    AlreadyApplied,
    /// Refused for good (e.g. the visit was cancelled meanwhile); kept as a conflict for the
    /// technician and the supervisor to see. The device must not send it again.
    Rejected { code: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MutationOutcome {
    pub seq: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushResponse {
    /// Every mutation of this device up to here is stored; the device may drop them.
    pub acked_through: u64,
    pub outcomes: Vec<MutationOutcome>,
}

// ---------------------------------------------------------------------------------------------
// Pull

/// What the work orders of one pull page refer to, each record once: a device needs them to
/// work offline. Sent with the page rather than inside every work order, so a first sync of
/// thousands of work orders of a few hundred customers moves each customer a handful of times.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReferenceData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<ServicePolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customers: Vec<Customer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<Site>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<Asset>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<ChecklistTemplate>,
    /// The assignees, for names on screen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserInfo>,
}

impl ReferenceData {
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
            && self.customers.is_empty()
            && self.sites.is_empty()
            && self.assets.is_empty()
            && self.templates.is_empty()
            && self.users.is_empty()
    }
}

/// A work order with everything it refers to, put together from a pulled page (it does not
/// travel in this form).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkOrderBundle {
    pub work_order: WorkOrder,
    pub customer: Customer,
    pub site: Site,
    pub asset: Option<Asset>,
    pub template: Option<ChecklistTemplate>,
    pub policy: ServicePolicy,
    pub assignee: Option<UserInfo>,
}

impl ReferenceData {
    /// `work_order` with what it refers to, or `None` when something is not here.
    pub fn bundle(&self, work_order: &WorkOrder) -> Option<WorkOrderBundle> {
        fn find<T: Clone>(items: &[T], wanted: impl Fn(&T) -> bool) -> Option<T> {
            items.iter().find(|i| wanted(i)).cloned()
        }
        let customer = find(&self.customers, |c| c.id == work_order.customer_id)?;
        let policy = find(&self.policies, |p| p.id == customer.policy_id)?;
        let site = find(&self.sites, |s| s.id == work_order.site_id)?;
        let asset = match work_order.asset_id {
            Some(id) => Some(find(&self.assets, |a| a.id == id)?),
            None => None,
        };
        let template = match work_order.template_id {
            Some(id) => Some(find(&self.templates, |t| t.id == id)?),
            None => None,
        };
        let assignee = match work_order.assignee {
            Some(id) => Some(find(&self.users, |u| u.id == id)?),
            None => None,
        };
        Some(WorkOrderBundle { work_order: work_order.clone(), customer, site, asset, template, policy, assignee })
    }
}

/// A pulled change with its work order's references filled in from its page: how tests and
/// tools read a stream as a whole.
// Records by value, as in `ChangeBody`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedBody {
    WorkOrder { bundle: Box<WorkOrderBundle> },
    Record { op: MutationOp },
    Removed { work_order_id: WorkOrderId },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedChange {
    pub version: u64,
    pub body: ResolvedBody,
}

impl PullResponse {
    /// The page's changes with each work order's references filled in. Panics when the page
    /// lacks one, which a server never sends.
    pub fn resolved(&self) -> Vec<ResolvedChange> {
        self.changes
            .iter()
            .map(|c| ResolvedChange {
                version: c.version,
                body: match &c.body {
                    ChangeBody::WorkOrder { work_order } => ResolvedBody::WorkOrder {
                        bundle: Box::new(
                            self.reference.bundle(work_order).expect("a page carries what its work orders refer to"),
                        ),
                    },
                    ChangeBody::Record { op } => ResolvedBody::Record { op: op.clone() },
                    ChangeBody::Removed { work_order_id } => ResolvedBody::Removed { work_order_id: *work_order_id },
                },
            })
            .collect()
    }
}

// A page of changes is built once and serialised; the records by value are simpler and the
// size difference to the boxed work order costs nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ChangeBody {
    /// The work order as it now stands (created, changed, or newly assigned to the caller).
    /// What it refers to is in the page's [`ReferenceData`].
    WorkOrder { work_order: Box<WorkOrder> },
    /// A visit record stored on the server (from this or another device).
    Record { op: MutationOp },
    /// The work order is no longer the caller's (reassigned or withdrawn).
    Removed { work_order_id: WorkOrderId },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// Position in the caller's own change stream.
    pub version: u64,
    #[serde(flatten)]
    pub body: ChangeBody,
}

/// On the wire a page has its own compact layout (protocol 3, `wire.rs`), and that is what the
/// published schema (`PullPage`) describes; read back, it is this.
#[derive(Debug, Clone, PartialEq)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// The customers, sites, assets, templates, policies and assignees that this page's work
    /// orders refer to, each once, as they stand now.
    pub reference: ReferenceData,
    /// Pass this as `after` next time.
    pub cursor: u64,
    /// More changes wait beyond this page.
    pub more: bool,
}

/// The schema of a pull page is the one it travels in.
impl utoipa::PartialSchema for PullResponse {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::Ref::from_schema_name("PullPage").into()
    }
}

impl ToSchema for PullResponse {
    fn name() -> std::borrow::Cow<'static, str> {
        "PullPage".into()
    }

    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        schemas.push(("PullPage".into(), <wire::WirePage as utoipa::PartialSchema>::schema()));
        <wire::WirePage as ToSchema>::schemas(schemas);
    }
}

// ---------------------------------------------------------------------------------------------
// Blobs

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MissingBlobsRequest {
    pub ids: Vec<BlobId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MissingBlobsResponse {
    pub missing: Vec<BlobId>,
}

/// Where an upload stands; a device resumes from `received`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UploadStatus {
    pub id: BlobId,
    pub received: u64,
    pub total: u64,
    pub complete: bool,
}

// ---------------------------------------------------------------------------------------------
// Supervisor

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignRequest {
    pub assignee: UserId,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CancelRequest {
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkOrderFilter {
    pub status: Option<WorkOrderStatus>,
    pub assignee: Option<UserId>,
    pub limit: Option<u32>,
}

/// Which conflicts to list. A technician always gets their own; a supervisor their team's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConflictFilter {
    pub work_order: Option<WorkOrderId>,
    /// Only those nobody has marked as dealt with.
    #[serde(default)]
    pub unresolved: bool,
    /// How many, 1 to 1000 (default 200).
    pub limit: Option<u32>,
    /// Only conflicts numbered below this one. They come newest first: to read the next page,
    /// pass the `id` of the last conflict of this one, until a page comes back shorter than
    /// `limit`.
    pub before: Option<i64>,
}

/// A change a device made that the server refused, with both sides: what the device sent and
/// the work order as the server holds it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConflictInfo {
    pub id: i64,
    pub device_id: String,
    pub seq: u64,
    pub user_id: UserId,
    pub user_name: String,
    pub work_order_id: WorkOrderId,
    pub work_order_number: Option<String>,
    /// The device's change, as sent.
    pub local: MutationOp,
    /// The work order as the server holds it now: absent if it does not exist, or if the one
    /// asking may not read it now (it went to another technician or team). Missing and
    /// forbidden look alike.
    pub server: Option<WorkOrder>,
    pub code: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub hlc: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
}

// ---------------------------------------------------------------------------------------------
// Report ledger

/// One entry of the server's report ledger: insert-only, each entry's `chain` hashing the
/// previous entry's `chain` with this report's hash, so no entry can be changed or removed
/// without breaking every later one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    /// The entry's place in the ledger: 1, 2, 3, …
    pub seq: u64,
    /// SHA-256 of the report document's canonical JSON.
    pub hash: String,
    /// The hash of the report this one amends (the previous signed version of the visit).
    pub previous: Option<String>,
    /// SHA-256 of the previous entry's chain hash (64 zeros for the first) and this `hash`.
    pub chain: String,
    pub work_order_id: WorkOrderId,
    pub work_order_number: String,
    /// The visit version the report signs (0 for the first visit, +1 per reopening).
    pub visit_version: u32,
    pub device_id: String,
    pub technician_id: UserId,
    pub signed_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// A report as the ledger holds it, and what checking it now finds: the signature, every
/// image against the server's copy, the key enrolled for the device, its revocation, and the
/// ledger's chain up to this entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportCheck {
    pub entry: LedgerEntry,
    pub report: SignedReport,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceInfo {
    pub id: String,
    pub user_id: UserId,
    pub user_name: String,
    pub name: String,
    pub enrolled_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The last mutation sequence number stored from this device.
    pub last_seq: u64,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Changes from this device the server refused that no one has marked as dealt with.
    #[serde(default)]
    pub unresolved_conflicts: u64,
    /// Changes waiting on the device (not yet accepted by the server) when it last pulled;
    /// none when it never said (an older app).
    #[serde(default)]
    pub pending: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub name: String,
    pub staff_no: String,
    pub role: Role,
    pub supervisor_id: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PartCatalogEntry {
    pub part_number: String,
    pub name: String,
    pub needs_customer_approval: bool,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateCustomer {
    pub name: String,
    pub address: String,
    pub policy_id: PolicyId,
}

/// A new periodic duty. The device makes the id, so a retried request finds the schedule it
/// already made instead of making a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateSchedule {
    pub id: fieldbook_domain::ScheduleId,
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub asset_id: Option<fieldbook_domain::AssetId>,
    pub kind: fieldbook_domain::WorkOrderKind,
    pub template_id: Option<fieldbook_domain::TemplateId>,
    pub every: fieldbook_domain::schedule::Recurrence,
    pub first_due: chrono::DateTime<chrono::Utc>,
    pub lead_days: u32,
    pub assignee: Option<UserId>,
    pub contact: fieldbook_domain::Contact,
    #[serde(default)]
    pub instructions: String,
}

impl CreateSchedule {
    /// The schedule this makes, active from `at`.
    pub fn schedule(&self, at: chrono::DateTime<chrono::Utc>) -> fieldbook_domain::schedule::PatrolSchedule {
        fieldbook_domain::schedule::PatrolSchedule {
            id: self.id,
            customer_id: self.customer_id,
            site_id: self.site_id,
            asset_id: self.asset_id,
            kind: self.kind,
            template_id: self.template_id,
            every: self.every,
            first_due: self.first_due,
            lead_days: self.lead_days,
            assignee: self.assignee,
            contact: self.contact.clone(),
            instructions: self.instructions.clone(),
            active: true,
            created_at: at,
        }
    }
}

/// A schedule and the work orders it made on the way (those already due).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleResult {
    pub schedule: fieldbook_domain::schedule::PatrolSchedule,
    pub created: Vec<WorkOrder>,
}

/// Pauses (`false`) or resumes (`true`) a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleActive {
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateSite {
    pub customer_id: CustomerId,
    pub name: String,
    pub address: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateAsset {
    pub site_id: SiteId,
    pub model: String,
    pub serial: String,
    pub location: String,
    pub warranty_end: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub protocol: u32,
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutation_round_trips_with_chinese_and_emoji_intact() {
        let note = Note {
            id: fieldbook_domain::NoteId::new(),
            work_order_id: WorkOrderId::new(),
            author: None,
            text: "客户要求下周复查 👍".into(),
            written_at: Utc::now(),
        };
        let m =
            Mutation { seq: 1, id: MutationId::new(), hlc: fieldbook_domain::Hlc::at(7), op: MutationOp::Note(note) };
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("客户要求下周复查 👍"));
        assert_eq!(serde_json::from_str::<Mutation>(&json).unwrap(), m);
    }

    #[test]
    fn outcomes_are_flat_on_the_wire() {
        let o = MutationOutcome { seq: 3, outcome: Outcome::Rejected { code: "c".into(), message: "m".into() } };
        assert_eq!(
            serde_json::to_value(&o).unwrap(),
            serde_json::json!({"seq": 3, "outcome": "rejected", "code": "c", "message": "m"})
        );
    }
}
