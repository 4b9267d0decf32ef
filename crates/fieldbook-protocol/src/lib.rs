//! What crosses the network between a Fieldbook device and the server.
//!
//! Every request carries [`PROTOCOL_HEADER`] with [`PROTOCOL_VERSION`]; a server that speaks
//! another version refuses it with `protocol_mismatch` and a message telling the user to
//! update, and changes nothing. Records travel as the domain's own types: they are append-only
//! facts with ids made on the device, so the server stores exactly what the device made.

use chrono::{DateTime, Utc};
use fieldbook_domain::{
    Asset, AssetId, BillingBasis, BlobId, ChecklistTemplate, Contact, Customer, CustomerId, FaultLevel, FaultRecord,
    Hlc, InspectionResult, MutationId, Note, PartUsage, Photo, PolicyId, Role, ServicePolicy, SignOff, Site, SiteId,
    StatusAction, TemplateId, UserId, WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The version of this protocol. Bumped on any incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;
/// The request header that carries it.
pub const PROTOCOL_HEADER: &str = "fieldbook-protocol";
/// The largest push a server accepts, in mutations.
pub const MAX_PUSH_MUTATIONS: usize = 1000;
/// The largest page a pull returns.
pub const MAX_PULL_PAGE: u32 = 1000;
/// The largest chunk of a blob upload, in bytes.
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;
/// The largest blob (a photo or signature after processing), in bytes.
pub const MAX_BLOB_BYTES: u64 = 20 * 1024 * 1024;

/// Every error the server sends: `code` is for programs, `message` for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
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
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Mutation {
    /// The device's own sequence number: 1, 2, 3, … with no gaps, never reused.
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

/// A work order with everything a device needs to work on it offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkOrderBundle {
    pub work_order: WorkOrder,
    pub customer: Customer,
    pub site: Site,
    pub asset: Option<Asset>,
    pub template: Option<ChecklistTemplate>,
    pub policy: ServicePolicy,
    pub assignee: Option<UserInfo>,
}

// A page of changes is built once and serialised; the records by value are simpler and the
// size difference to the boxed bundle costs nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ChangeBody {
    /// The work order as it now stands (created, changed, or newly assigned to the caller).
    WorkOrder { bundle: Box<WorkOrderBundle> },
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Pass this as `after` next time.
    pub cursor: u64,
    /// More changes wait beyond this page.
    pub more: bool,
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

/// A work order recorded from a customer's call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateWorkOrder {
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub asset_id: Option<AssetId>,
    pub contact: Contact,
    pub kind: WorkOrderKind,
    pub fault_level: FaultLevel,
    pub symptom: String,
    pub reported_by: String,
    /// 接报时间; now when absent.
    pub reported_at: Option<DateTime<Utc>>,
    pub assignee: Option<UserId>,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub billing: BillingBasis,
    #[serde(default)]
    pub instructions: String,
    pub template_id: Option<TemplateId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignRequest {
    pub assignee: UserId,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CancelRequest {
    pub reason: String,
}

/// Supervisor-owned fields; absent ones stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateWorkOrder {
    pub scheduled_for: Option<DateTime<Utc>>,
    pub fault_level: Option<FaultLevel>,
    pub instructions: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum ReviewRequest {
    Approve,
    Return { reason: String },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct WorkOrderFilter {
    pub status: Option<WorkOrderStatus>,
    pub assignee: Option<UserId>,
    pub limit: Option<u32>,
}

/// Which conflicts to list. A technician always gets their own; a supervisor their team's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct ConflictFilter {
    pub work_order: Option<WorkOrderId>,
    /// Only those nobody has marked as dealt with.
    #[serde(default)]
    pub unresolved: bool,
    pub limit: Option<u32>,
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
    /// The work order as the server holds it now (absent if it no longer exists).
    pub server: Option<WorkOrder>,
    pub code: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub hlc: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
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
