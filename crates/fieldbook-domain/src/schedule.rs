//! Periodic duties (定期巡检/保养): a site's or a piece of equipment's patrol every month,
//! quarter, half year or year. The server turns each due date into a work order ahead of time.
//!
//! The rules:
//! - Due dates are the first due date plus whole months (a 31st falls back to the month's last
//!   day), in the order they come.
//! - A due date's work order is created `lead_days` before it, and never for a due date before
//!   the schedule was made. A server that was down catches up: a due date that passed while it
//!   was down still gets its (now late) work order, because a missed patrol must be recorded.
//! - Each due date has one work order, whose id is derived from the schedule and the due date:
//!   running the schedules twice, or on two servers at once, cannot create a second one.
//! - The work order counts its deadlines from the due date (its 接报时间), at the customer's
//!   policy for a minor fault; it is booked (`scheduled_for`) at the due date.

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::text::{optional_text, required_text};
use crate::{
    AssetId, BillingBasis, Contact, CustomerId, FaultLevel, InvalidInput, ScheduleId, ServicePolicy, SiteId,
    TemplateId, UserId, WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};

/// How often a duty comes round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    Monthly,
    Quarterly,
    SemiAnnual,
    Annual,
}

impl Recurrence {
    pub fn months(self) -> u32 {
        match self {
            Recurrence::Monthly => 1,
            Recurrence::Quarterly => 3,
            Recurrence::SemiAnnual => 6,
            Recurrence::Annual => 12,
        }
    }
}

/// Longest lead a schedule may have: a quarter.
pub const MAX_LEAD_DAYS: u32 = 92;

/// A periodic patrol or maintenance of a site, or of one piece of equipment on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatrolSchedule {
    pub id: ScheduleId,
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub asset_id: Option<AssetId>,
    /// Patrol (巡检), maintenance (保养) or a return visit (回访).
    pub kind: WorkOrderKind,
    /// The checklist its work orders carry.
    pub template_id: Option<TemplateId>,
    pub every: Recurrence,
    /// The first due date and time; later ones fall whole months after it.
    pub first_due: DateTime<Utc>,
    /// How many days before a due date its work order is created.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub lead_days: u32,
    /// Who its work orders go to; unassigned ones wait on the supervisors' board.
    pub assignee: Option<UserId>,
    pub contact: Contact,
    pub instructions: String,
    /// A paused schedule creates nothing.
    pub active: bool,
    /// When it was made: no work order is created for a due date before it.
    pub created_at: DateTime<Utc>,
}

impl PatrolSchedule {
    /// Refuses what can never be a schedule.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if !matches!(self.kind, WorkOrderKind::Patrol | WorkOrderKind::Maintenance | WorkOrderKind::ReturnVisit) {
            return Err(InvalidInput::Schedule(format!(
                "a schedule makes patrols, maintenance or return visits, not {}",
                self.kind.as_str()
            )));
        }
        if self.lead_days > MAX_LEAD_DAYS {
            return Err(InvalidInput::Schedule(format!(
                "work orders are created at most {MAX_LEAD_DAYS} days ahead (got {})",
                self.lead_days
            )));
        }
        required_text("contact name", &self.contact.name, 100)?;
        required_text("contact phone", &self.contact.phone, 40)?;
        optional_text("instructions", &self.instructions, 4000)?;
        Ok(())
    }

    /// The due dates from the first on, in order (endless; take what you need).
    pub fn due_dates(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        (0u32..).map_while(move |k| self.first_due.checked_add_months(Months::new(k * self.every.months())))
    }

    /// The due dates whose work orders should exist at `now`: from the schedule's making to
    /// `lead_days` ahead. Empty while paused.
    pub fn due_by(&self, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        if !self.active {
            return Vec::new();
        }
        let horizon = now + Duration::days(i64::from(self.lead_days));
        // Due dates are compared by day with the making, so one due the day it was made counts.
        let made = self.created_at.date_naive();
        self.due_dates().take_while(|due| *due <= horizon).filter(|due| due.date_naive() >= made).collect()
    }

    /// The one work order id of a due date.
    pub fn work_order_id(&self, due: DateTime<Utc>) -> WorkOrderId {
        let digest = Sha256::new()
            .chain_update(b"fieldbook schedule occurrence\0")
            .chain_update(self.id.as_uuid().as_bytes())
            .chain_update(due.timestamp_millis().to_be_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        WorkOrderId::from_uuid(uuid::Uuid::new_v8(bytes))
    }

    /// The work order of a due date.
    pub fn work_order(&self, due: DateTime<Utc>, policy: &ServicePolicy, symptom: &str) -> WorkOrder {
        let id = self.work_order_id(due);
        let level = FaultLevel::Minor;
        WorkOrder {
            id,
            number: crate::work_order::first_number("PM", id, due),
            customer_id: self.customer_id,
            site_id: self.site_id,
            asset_id: self.asset_id,
            contact: self.contact.clone(),
            kind: self.kind,
            fault_level: level,
            symptom: symptom.to_owned(),
            reported_by: format!("schedule {}", self.id),
            reported_at: due,
            assignee: self.assignee,
            scheduled_for: Some(due),
            billing: BillingBasis::Contract,
            status: if self.assignee.is_some() { WorkOrderStatus::Assigned } else { WorkOrderStatus::New },
            instructions: self.instructions.clone(),
            template_id: self.template_id,
            deadlines: policy.deadlines(level, due),
            responded_at: None,
            arrived_at: None,
            completed_at: None,
            status_note: None,
            visit_version: 0,
        }
    }
}

/// What a scheduled work order says it is for, in both languages.
pub fn duty_text(kind: WorkOrderKind, every: Recurrence) -> String {
    let zh = match every {
        Recurrence::Monthly => "月度",
        Recurrence::Quarterly => "季度",
        Recurrence::SemiAnnual => "半年",
        Recurrence::Annual => "年度",
    };
    let (zh_kind, en_kind) = match kind {
        WorkOrderKind::Maintenance => ("保养", "maintenance"),
        WorkOrderKind::ReturnVisit => ("回访", "return visit"),
        _ => ("巡检", "patrol"),
    };
    let en = match every {
        Recurrence::Monthly => "Monthly",
        Recurrence::Quarterly => "Quarterly",
        Recurrence::SemiAnnual => "Semi-annual",
        Recurrence::Annual => "Annual",
    };
    format!("{zh}{zh_kind} / {en} {en_kind}")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::PolicyId;

    fn schedule(every: Recurrence, first_due: DateTime<Utc>, created_at: DateTime<Utc>) -> PatrolSchedule {
        PatrolSchedule {
            id: ScheduleId::new(),
            customer_id: CustomerId::new(),
            site_id: SiteId::new(),
            asset_id: None,
            kind: WorkOrderKind::Patrol,
            template_id: None,
            every,
            first_due,
            lead_days: 14,
            assignee: None,
            contact: Contact { name: "王工".into(), phone: "0574-1".into() },
            instructions: String::new(),
            active: true,
            created_at,
        }
    }

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 1, 0, 0).unwrap()
    }

    #[test]
    fn due_dates_fall_whole_periods_apart_and_month_ends_fall_back() {
        let s = schedule(Recurrence::Quarterly, at(2026, 1, 31), at(2026, 1, 1));
        let dates: Vec<String> = s.due_dates().take(4).map(|d| d.format("%Y-%m-%d").to_string()).collect();
        assert_eq!(dates, ["2026-01-31", "2026-04-30", "2026-07-31", "2026-10-31"]);
        let s = schedule(Recurrence::Annual, at(2028, 2, 29), at(2028, 1, 1));
        let dates: Vec<String> = s.due_dates().take(2).map(|d| d.format("%Y-%m-%d").to_string()).collect();
        assert_eq!(dates, ["2028-02-29", "2029-02-28"]);
        assert_eq!(Recurrence::SemiAnnual.months(), 6);
    }

    #[test]
    fn work_orders_are_due_within_the_lead_and_never_before_the_schedule_was_made() {
        let s = schedule(Recurrence::Monthly, at(2026, 1, 15), at(2026, 3, 20));
        // Made on 20 March: January to March are history; April is 12 days ahead of 3 April.
        assert!(s.due_by(at(2026, 3, 20)).is_empty());
        assert_eq!(s.due_by(at(2026, 4, 3)), vec![at(2026, 4, 15)]);
        // Down for two months: May and June are caught up, July is 12 days ahead.
        assert_eq!(s.due_by(at(2026, 7, 3)), vec![at(2026, 4, 15), at(2026, 5, 15), at(2026, 6, 15), at(2026, 7, 15)]);
        let paused = PatrolSchedule { active: false, ..s.clone() };
        assert!(paused.due_by(at(2026, 7, 3)).is_empty());
    }

    #[test]
    fn each_due_date_has_one_work_order_counted_from_it() {
        let s = schedule(Recurrence::Monthly, at(2026, 1, 15), at(2026, 1, 1));
        let policy = ServicePolicy::standard(PolicyId::new());
        let a = s.work_order(at(2026, 2, 15), &policy, "月度巡检");
        let b = s.work_order(at(2026, 2, 15), &policy, "月度巡检");
        assert_eq!(a, b, "the same due date makes the same work order");
        assert_ne!(a.id, s.work_order(at(2026, 3, 15), &policy, "月度巡检").id);
        assert_ne!(a.id, schedule(Recurrence::Monthly, at(2026, 1, 15), at(2026, 1, 1)).work_order_id(at(2026, 2, 15)));
        assert_eq!(a.reported_at, at(2026, 2, 15));
        assert_eq!(a.scheduled_for, Some(at(2026, 2, 15)));
        assert_eq!(a.deadlines, policy.deadlines(FaultLevel::Minor, at(2026, 2, 15)));
        assert!(a.number.starts_with("PM-20260215-"), "{}", a.number);
        assert_eq!(a.status, WorkOrderStatus::New);
    }

    #[test]
    fn repairs_and_long_leads_are_refused() {
        let mut s = schedule(Recurrence::Monthly, at(2026, 1, 15), at(2026, 1, 1));
        s.validate().unwrap();
        s.kind = WorkOrderKind::Repair;
        assert!(s.validate().is_err());
        s.kind = WorkOrderKind::Maintenance;
        s.lead_days = 200;
        assert!(s.validate().is_err());
        s.lead_days = 7;
        s.contact.name = " ".into();
        assert!(s.validate().is_err());
    }
}
