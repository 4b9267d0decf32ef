//! Periodic duties on a supervisor's device: the team's schedules as the server holds them,
//! a new schedule, pause and resume. The server makes each due date's work order ahead of
//! time, and they arrive by sync like any other work; managing the schedules themselves needs
//! the network (as revoking a device does), because the server is the one place that makes
//! their work orders, exactly once.

use chrono::{DateTime, Utc};
use fieldbook_domain::schedule::{PatrolSchedule, Recurrence};
use fieldbook_domain::{Contact, ScheduleId, WorkOrderKind};
use fieldbook_protocol::CreateSchedule;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{App, AppError, ErrorCode, parse_id};

/// One schedule as the screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ScheduleView {
    pub id: String,
    pub customer: String,
    pub site: String,
    /// "Model · serial", when it is one piece of equipment's.
    pub asset: Option<String>,
    pub kind: WorkOrderKind,
    pub every: Recurrence,
    pub first_due: DateTime<Utc>,
    /// The next due date from now on.
    pub next_due: Option<DateTime<Utc>>,
    #[ts(type = "number")]
    pub lead_days: u32,
    pub assignee: Option<String>,
    pub active: bool,
    pub instructions: String,
}

/// A new schedule as the form sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ScheduleDraft {
    pub customer_id: String,
    pub site_id: String,
    pub asset_id: Option<String>,
    pub kind: WorkOrderKind,
    pub every: Recurrence,
    pub first_due: DateTime<Utc>,
    #[ts(type = "number")]
    pub lead_days: u32,
    pub assignee: Option<String>,
    pub contact_name: String,
    pub contact_phone: String,
    pub instructions: String,
}

/// A refusal of the server in the app's words.
impl App {
    fn schedule_client(&self) -> Result<fieldbook_sync::SyncClient, AppError> {
        self.supervising()?;
        self.client()?.ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "sign in first"))
    }

    fn schedule_views(&self, schedules: Vec<PatrolSchedule>) -> Result<Vec<ScheduleView>, AppError> {
        let catalog = self.store().dispatch_catalog()?;
        let now = self.clock.now();
        Ok(schedules
            .into_iter()
            .map(|s| ScheduleView {
                id: s.id.to_string(),
                customer: catalog
                    .customers
                    .iter()
                    .find(|c| c.id == s.customer_id)
                    .map_or_else(|| s.customer_id.to_string(), |c| c.name.clone()),
                site: catalog
                    .sites
                    .iter()
                    .find(|x| x.id == s.site_id)
                    .map_or_else(|| s.site_id.to_string(), |x| x.name.clone()),
                asset: s.asset_id.map(|id| {
                    catalog
                        .assets
                        .iter()
                        .find(|a| a.id == id)
                        .map_or_else(|| id.to_string(), |a| format!("{} · {}", a.model, a.serial))
                }),
                kind: s.kind,
                every: s.every,
                first_due: s.first_due,
                next_due: s.due_dates().find(|due| *due >= now),
                lead_days: s.lead_days,
                assignee: s.assignee.map(|id| {
                    catalog.technicians.iter().find(|t| t.id == id).map_or_else(|| id.to_string(), |t| t.name.clone())
                }),
                active: s.active,
                instructions: s.instructions.clone(),
            })
            .collect())
    }

    /// The team's schedules, newest first (from the server).
    pub async fn schedules(&self) -> Result<Vec<ScheduleView>, AppError> {
        let client = self.schedule_client()?;
        let schedules = client.schedules().await.map_err(crate::sync::server_refusal)?;
        self.schedule_views(schedules)
    }

    /// Makes a schedule on the server (checked here first, so a mistake is shown without the
    /// network), then syncs so the work orders it made at once arrive; returns the schedules.
    pub async fn create_schedule(&self, draft: ScheduleDraft) -> Result<Vec<ScheduleView>, AppError> {
        let client = self.schedule_client()?;
        let request = CreateSchedule {
            id: ScheduleId::new(),
            customer_id: parse_id(&draft.customer_id)?,
            site_id: parse_id(&draft.site_id)?,
            asset_id: draft.asset_id.as_deref().filter(|a| !a.is_empty()).map(parse_id).transpose()?,
            kind: draft.kind,
            template_id: None,
            every: draft.every,
            first_due: draft.first_due,
            lead_days: draft.lead_days,
            assignee: draft.assignee.as_deref().filter(|a| !a.is_empty()).map(parse_id).transpose()?,
            contact: Contact {
                name: draft.contact_name.trim().to_owned(),
                phone: draft.contact_phone.trim().to_owned(),
            },
            instructions: draft.instructions.trim().to_owned(),
        };
        request.schedule(self.clock.now()).validate()?;
        let catalog = self.store().dispatch_catalog()?;
        if !catalog.sites.iter().any(|s| s.id == request.site_id && s.customer_id == request.customer_id) {
            return Err(AppError::new(ErrorCode::InvalidInput, "choose a site of the customer"));
        }
        client.create_schedule(&request).await.map_err(crate::sync::server_refusal)?;
        // The work orders already due arrive with the next pull; a failed sync is retried by
        // the background loop and does not undo the schedule.
        let _ = self.sync_now().await;
        self.schedules().await
    }

    /// Pauses or resumes a schedule; returns the schedules.
    pub async fn set_schedule_active(&self, id: &str, active: bool) -> Result<Vec<ScheduleView>, AppError> {
        let client = self.schedule_client()?;
        let id: ScheduleId = parse_id(id)?;
        client.set_schedule_active(id, active).await.map_err(crate::sync::server_refusal)?;
        if active {
            let _ = self.sync_now().await;
        }
        self.schedules().await
    }
}
