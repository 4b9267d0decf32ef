//! The supervisor's role on this device: the deadline board, calls recorded as work orders,
//! dispatch (assign, reassign, schedule, level, cancel) and review (approve, return with a
//! reason). Every step is applied on the device at once and synced like a technician's work,
//! so a supervisor works offline too; the server checks each step against the team again.

use chrono::{DateTime, Utc};
use fieldbook_domain::{
    CreateWorkOrder, Deadlines, Dispatch, DispatchAction, FaultLevel, Role, WorkOrderId, WorkOrderStatus,
};
use fieldbook_store::ListQuery;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::dto::WorkOrderSummary;
use crate::{App, AppError, ErrorCode, parse_id, views};

/// Open work by time left, the visits waiting for review, and each technician's load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Board {
    /// Open work orders, the nearest deadline first (breached ones lead).
    pub open: Vec<WorkOrderSummary>,
    /// Signed visits waiting for the supervisor's review, oldest first.
    pub review: Vec<WorkOrderSummary>,
    pub workload: Vec<Workload>,
    /// Open work orders no technician holds yet.
    pub unassigned: u32,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Workload {
    pub technician_id: String,
    pub name: String,
    pub staff_no: String,
    /// Open work orders held.
    pub open: u32,
    /// Of those, how many have missed a deadline.
    pub breached: u32,
}

/// What a call can name: customers, their sites and equipment, and the technicians.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DispatchOptions {
    pub customers: Vec<Choice>,
    pub sites: Vec<Choice>,
    pub assets: Vec<Choice>,
    pub technicians: Vec<Choice>,
}

/// One option of a picker; `parent` is the customer of a site, the site of a piece of equipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Choice {
    pub id: String,
    pub label: String,
    pub parent: Option<String>,
}

/// A device of the team, as the server knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeviceView {
    pub id: String,
    pub user_name: String,
    pub name: String,
    pub enrolled_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    /// How many changes the server has received from it.
    #[ts(type = "number")]
    pub changes_received: u64,
    /// Its changes the server refused that no one has marked as dealt with yet.
    #[ts(type = "number")]
    pub unresolved_conflicts: u64,
    /// Changes still waiting on it when it last synced (none if it never said).
    #[ts(type = "number | null")]
    pub pending: Option<u64>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// This device itself.
    pub this_device: bool,
}

const OPEN: [WorkOrderStatus; 5] = [
    WorkOrderStatus::New,
    WorkOrderStatus::Assigned,
    WorkOrderStatus::EnRoute,
    WorkOrderStatus::OnSite,
    WorkOrderStatus::Returned,
];

impl App {
    /// The role of the signed-in user, as the server told at sign-in.
    pub fn role(&self) -> Result<Option<Role>, AppError> {
        Ok(self.store().setting("user_role")?.and_then(|r| r.parse().ok()))
    }

    pub(crate) fn supervising(&self) -> Result<(), AppError> {
        match self.role()? {
            Some(Role::Supervisor | Role::Admin) => Ok(()),
            Some(Role::Technician) => {
                Err(AppError::new(ErrorCode::Forbidden, "only a supervisor records calls, dispatches and reviews work"))
            }
            None => Err(AppError::new(ErrorCode::NotSignedIn, "sign in as a supervisor first")),
        }
    }

    pub fn board(&self) -> Result<Board, AppError> {
        self.supervising()?;
        let now = self.clock.now();
        let store = self.store();
        let rows = |statuses: &[WorkOrderStatus]| {
            store.list_page(&ListQuery { statuses: statuses.to_vec(), limit: 20_000, ..ListQuery::default() })
        };
        let open_rows = rows(&OPEN)?.rows;
        let review_rows = rows(&[WorkOrderStatus::Completed])?.rows;
        let technicians = store.technicians()?;
        drop(store);
        let mut open: Vec<_> = open_rows.iter().map(|r| (r, views::summary(r, now))).collect();
        open.sort_by_key(|(_, s)| (s.next_due.as_ref().map(|d| d.due), s.number.clone()));
        let workload = technicians
            .iter()
            .map(|t| {
                let held: Vec<_> = open.iter().filter(|(r, _)| r.work_order.assignee == Some(t.id)).collect();
                Workload {
                    technician_id: t.id.to_string(),
                    name: t.name.clone(),
                    staff_no: t.staff_no.clone(),
                    open: held.len() as u32,
                    breached: held
                        .iter()
                        .filter(|(_, s)| s.next_due.as_ref().is_some_and(|d| d.state.is_breach()))
                        .count() as u32,
                }
            })
            .collect();
        let unassigned = open.iter().filter(|(r, _)| r.work_order.assignee.is_none()).count() as u32;
        let mut review: Vec<_> = review_rows.iter().map(|r| views::summary(r, now)).collect();
        review.sort_by_key(|s| s.reported_at);
        Ok(Board { open: open.into_iter().map(|(_, s)| s).collect(), review, workload, unassigned, now })
    }

    pub fn dispatch_options(&self) -> Result<DispatchOptions, AppError> {
        self.supervising()?;
        let catalog = self.store().dispatch_catalog()?;
        Ok(DispatchOptions {
            customers: catalog
                .customers
                .iter()
                .map(|c| Choice { id: c.id.to_string(), label: c.name.clone(), parent: None })
                .collect(),
            sites: catalog
                .sites
                .iter()
                .map(|s| Choice {
                    id: s.id.to_string(),
                    label: s.name.clone(),
                    parent: Some(s.customer_id.to_string()),
                })
                .collect(),
            assets: catalog
                .assets
                .iter()
                .map(|a| Choice {
                    id: a.id.to_string(),
                    label: format!("{} · {} · {}", a.model, a.serial, a.location),
                    parent: Some(a.site_id.to_string()),
                })
                .collect(),
            technicians: catalog
                .technicians
                .iter()
                .map(|t| Choice { id: t.id.to_string(), label: format!("{} ({})", t.name, t.staff_no), parent: None })
                .collect(),
        })
    }

    /// The deadlines a call would get now, shown while it is being recorded.
    pub fn preview_deadlines(&self, customer_id: &str, fault_level: FaultLevel) -> Result<Deadlines, AppError> {
        self.supervising()?;
        let customer = parse_id(customer_id)?;
        let policy = self.store().customer_policy(customer)?;
        Ok(policy.deadlines(fault_level, self.clock.now()))
    }

    /// Records a customer's call as a new work order (assigned at once when a technician is
    /// named). Returns it as the list shows it.
    pub fn create_work_order(&self, call: CreateWorkOrder) -> Result<WorkOrderSummary, AppError> {
        self.supervising()?;
        let id = WorkOrderId::new();
        self.step(Dispatch { work_order_id: id, at: self.clock.now(), action: DispatchAction::Create(Box::new(call)) })
    }

    /// A supervisor's step on an existing work order: assign, update, cancel or review.
    pub fn dispatch(&self, work_order_id: &str, action: DispatchAction) -> Result<WorkOrderSummary, AppError> {
        self.supervising()?;
        if matches!(action, DispatchAction::Create(_)) {
            return Err(AppError::new(ErrorCode::InvalidInput, "a new work order is recorded with create_work_order"));
        }
        let id = parse_id(work_order_id)?;
        self.step(Dispatch { work_order_id: id, at: self.clock.now(), action })
    }

    /// The team's devices with their last sync, from the server (online only: revoking a
    /// lost device must take effect on the server at once).
    pub async fn team_devices(&self) -> Result<Vec<DeviceView>, AppError> {
        self.supervising()?;
        let client = self.client()?.ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "sign in first"))?;
        let this = self.store().setting("sync.device_id")?;
        let mut devices = client.devices().await.map_err(crate::sync::sync_error)?;
        devices.sort_by(|a, b| {
            (a.revoked_at.is_some(), &a.user_name, &a.name).cmp(&(b.revoked_at.is_some(), &b.user_name, &b.name))
        });
        Ok(devices
            .into_iter()
            .map(|d| DeviceView {
                this_device: this.as_deref() == Some(d.id.as_str()),
                id: d.id,
                user_name: d.user_name,
                name: d.name,
                enrolled_at: d.enrolled_at,
                last_sync_at: d.last_sync_at,
                changes_received: d.last_seq,
                unresolved_conflicts: d.unresolved_conflicts,
                pending: d.pending,
                revoked_at: d.revoked_at,
            })
            .collect())
    }

    /// Revokes a lost device of the team; returns the devices as they now stand.
    pub async fn revoke_device(&self, id: &str) -> Result<Vec<DeviceView>, AppError> {
        self.supervising()?;
        let id = fieldbook_domain::text::required_text("device id", id, 64)?;
        if self.store().setting("sync.device_id")?.as_deref() == Some(id.as_str()) {
            return Err(AppError::new(ErrorCode::InvalidInput, "this is the device you are using; sign out instead"));
        }
        let client = self.client()?.ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "sign in first"))?;
        client.revoke_device(&id).await.map_err(crate::sync::server_refusal)?;
        self.team_devices().await
    }

    fn step(&self, step: Dispatch) -> Result<WorkOrderSummary, AppError> {
        let id = step.work_order_id;
        self.store().dispatch(&step, self.clock.now())?;
        self.changed(id);
        let row = self.store().work_order_row(id)?;
        Ok(views::summary(&row, self.clock.now()))
    }
}
