//! What the UI receives and sends. These shapes are exported to TypeScript by ts-rs (run
//! `cargo test -p fieldbook-app`), so the UI's types are never copied by hand.

use chrono::{DateTime, NaiveDate, Utc};
use fieldbook_domain::{
    BillingBasis, ChecklistTemplate, CorrectiveRequest, DeadlineState, FaultLevel, FaultRecord, InspectionResult,
    Missing, Note, PartUsage, Photo, SignOff, WorkOrderKind, WorkOrderStatus,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The languages Fieldbook speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum Locale {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
}

/// Filters of the work-order list. Empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkOrderQuery {
    /// Matches work-order number, customer, site, contact, asset model or serial, symptom.
    pub search: Option<String>,
    #[serde(default)]
    pub statuses: Vec<WorkOrderStatus>,
    #[serde(default)]
    pub kinds: Vec<WorkOrderKind>,
    /// Only the work orders of one view of the day; every work order when absent.
    #[serde(default)]
    pub view: Option<DayView>,
    /// The end of the device's local day the views are for (its next local midnight). The UI
    /// sends it, as only it knows the user's time zone for sure; the system's when absent.
    #[serde(default)]
    pub day_ends_at: Option<DateTime<Utc>>,
    /// Rows skipped before this page, in list order (default 0).
    #[serde(default)]
    pub offset: Option<u32>,
    /// At most this many rows (default 500, at most 20,000).
    pub limit: Option<u32>,
}

/// The list's views of a technician's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DayView {
    /// Under way, or due or booked before the day ends (overdue included).
    Today,
    /// Every other open work order.
    Upcoming,
    /// Completed, approved or cancelled.
    Done,
}

/// How many work orders of the answer's query are in one status group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatusCount {
    pub status: WorkOrderStatus,
    pub count: u32,
}

/// Which promise a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    Respond,
    Arrive,
    Resolve,
    Loaner,
}

/// One row of the work-order list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkOrderSummary {
    pub id: String,
    pub number: String,
    pub customer_name: String,
    pub site_name: String,
    pub asset_label: Option<String>,
    pub kind: WorkOrderKind,
    pub fault_level: FaultLevel,
    pub status: WorkOrderStatus,
    pub symptom: String,
    pub reported_at: DateTime<Utc>,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub assignee_name: Option<String>,
    /// The nearest deadline not yet met, and how it stands now. None when the order is closed.
    pub next_due: Option<DueInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DueInfo {
    pub kind: DeadlineKind,
    pub due: DateTime<Utc>,
    pub state: DeadlineState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkOrderList {
    /// One page of the list, from `offset` on: the status groups in `groups` order, nearest
    /// deadline first within each.
    pub items: Vec<WorkOrderSummary>,
    pub offset: u32,
    /// How many match in each status group, in list order; empty groups are left out.
    pub groups: Vec<StatusCount>,
    /// How many match in all (the groups' sum).
    pub total: u32,
    /// The instant the deadline states were computed at; the UI counts down from it.
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeadlineRow {
    pub kind: DeadlineKind,
    pub due: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub state: DeadlineState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AssetInfo {
    pub id: String,
    pub model: String,
    pub serial: String,
    pub location: String,
    pub warranty_end: Option<NaiveDate>,
    pub in_warranty: bool,
}

/// A past visit on the same asset (设备机历簿).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AssetHistoryEntry {
    pub id: String,
    pub number: String,
    pub kind: WorkOrderKind,
    pub status: WorkOrderStatus,
    pub reported_at: DateTime<Utc>,
    pub symptom: String,
}

/// Everything the detail screen shows of one work order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkOrderDetail {
    pub summary: WorkOrderSummary,
    pub customer_address: String,
    pub site_address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub reported_by: String,
    pub billing: BillingBasis,
    pub instructions: String,
    /// Why a supervisor returned or cancelled it.
    pub status_note: Option<String>,
    /// The visit's version: 0 until a returned visit is reopened, then one more each time.
    pub visit_version: u32,
    /// The technician it is assigned to, for the supervisor's dispatch panel.
    pub assignee_id: Option<String>,
    pub asset: Option<AssetInfo>,
    pub asset_history: Vec<AssetHistoryEntry>,
    pub deadlines: Vec<DeadlineRow>,
    pub template: Option<ChecklistTemplate>,
    /// Every answer ever given, oldest first; `current_results` are the ones in force.
    pub results: Vec<InspectionResult>,
    pub current_results: Vec<InspectionResult>,
    pub faults: Vec<FaultRecord>,
    pub parts: Vec<PartUsage>,
    pub photos: Vec<Photo>,
    pub sign_off: Option<SignOff>,
    pub notes: Vec<Note>,
    /// What still blocks completion, while the visit is under way (en route or on site);
    /// empty before it starts and after it closes, when completion is not the question.
    pub missing: Vec<Missing>,
    /// The records of this visit not yet confirmed by the server (the rest are).
    pub record_states: Vec<RecordSync>,
    /// This work order's changes the server refused.
    pub conflicts: Vec<ConflictView>,
    /// Corrective work orders asked for from this visit, oldest first.
    pub corrective_requests: Vec<CorrectiveRequest>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Settings {
    pub locale: Locale,
}

/// Where one change stands between this device and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Saved on this device, not yet sent.
    LocalOnly,
    /// Sent; the server's answer has not arrived yet.
    Sent,
    /// The server holds it.
    Confirmed,
    /// The server refused it; it is kept in the conflicts list.
    Conflicted,
}

/// The sync state of one record of a visit that is not (yet) confirmed. Records not listed
/// are confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RecordSync {
    /// `inspection_result`, `fault_record`, `part_usage`, `photo`, `note`, `sign_off` or
    /// `work_order` (a status step).
    pub entity: String,
    /// The record's id (a photo's blob id; the work order's id for a status step).
    pub entity_id: String,
    pub state: RecordState,
}

/// A change waiting to be sent, for the sync screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PendingChange {
    #[ts(type = "number")]
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    /// `create`, `attach` or `status`.
    pub op: String,
    pub work_order_id: String,
    pub work_order_number: Option<String>,
    pub created_at: DateTime<Utc>,
    pub state: RecordState,
    /// The change as it will be sent.
    #[ts(type = "unknown")]
    pub value: serde_json::Value,
}

/// A change the server refused, with both values: the device's and the work order as it now
/// stands. Nothing refused is dropped; the supervisor sees the same conflict on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConflictView {
    #[ts(type = "number")]
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub op: String,
    pub work_order_id: String,
    pub work_order_number: Option<String>,
    /// Why the server refused it, for programs (e.g. `visit_locked`) and in plain words.
    pub code: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    /// What this device recorded.
    #[ts(type = "unknown")]
    pub local_value: serde_json::Value,
    /// The work order's status and assignee as the server now has them (absent if the work
    /// order has left this device).
    pub server_status: Option<WorkOrderStatus>,
    pub server_assignee: Option<String>,
}

/// Everything the sync screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SyncOverview {
    pub status: crate::sync::SyncStatus,
    /// The oldest pending changes (at most 500); `status.pending` counts them all.
    pub pending: Vec<PendingChange>,
    pub conflicts: Vec<ConflictView>,
}

/// A parts-catalog entry offered when recording a part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PartOption {
    pub part_number: String,
    pub name: String,
    pub needs_customer_approval: bool,
    #[ts(type = "number")]
    pub unit_price_cents: i64,
}

/// What the customer's sign-off form holds; the signature image travels beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SignOffInput {
    pub signer_name: String,
    pub opinion: String,
    #[ts(type = "number")]
    pub satisfaction: i64,
}
