//! What the UI receives and sends. These shapes are exported to TypeScript by ts-rs (run
//! `cargo test -p fieldbook-app`), so the UI's types are never copied by hand.

use chrono::{DateTime, NaiveDate, Utc};
use fieldbook_domain::{
    BillingBasis, ChecklistTemplate, DeadlineState, FaultLevel, FaultRecord, InspectionResult, Missing, Note,
    PartUsage, Photo, SignOff, WorkOrderKind, WorkOrderStatus,
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
    /// At most this many rows (default 500, at most 20,000).
    pub limit: Option<u32>,
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
    pub items: Vec<WorkOrderSummary>,
    /// How many matched before the limit.
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
    /// What still blocks completion.
    pub missing: Vec<Missing>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Settings {
    pub locale: Locale,
}
