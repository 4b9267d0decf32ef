//! A supervisor's work on work orders: record a call as a new work order, assign and reassign
//! it, change its schedule, fault level and instructions, cancel it, and review the signed
//! visit. The one place the server and a supervisor's device (which works offline and syncs
//! like a technician's) decide what such a step does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::text::{optional_text, required_text};
use crate::{
    AssetId, BillingBasis, Contact, CustomerId, FaultLevel, InvalidInput, RuleViolation, ServicePolicy, SiteId,
    StatusAction, TemplateId, UserId, WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};

/// A customer's call, as the supervisor records it (报修).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateWorkOrder {
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub asset_id: Option<AssetId>,
    pub contact: Contact,
    pub kind: WorkOrderKind,
    pub fault_level: FaultLevel,
    pub symptom: String,
    pub reported_by: String,
    /// When the call came in; now when left out. The deadlines count from here.
    pub reported_at: Option<DateTime<Utc>>,
    pub assignee: Option<UserId>,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub billing: BillingBasis,
    #[serde(default)]
    pub instructions: String,
    pub template_id: Option<TemplateId>,
}

/// The supervisor-owned fields to change; those left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateWorkOrder {
    pub scheduled_for: Option<DateTime<Utc>>,
    pub fault_level: Option<FaultLevel>,
    pub instructions: Option<String>,
}

/// A supervisor's decision on a completed visit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum ReviewRequest {
    Approve,
    /// Back to the technician with the reason; the visit reopens as a new version.
    Return {
        reason: String,
    },
}

/// One step a supervisor takes on a work order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum DispatchAction {
    /// A new work order under the step's id.
    Create(Box<CreateWorkOrder>),
    Assign {
        assignee: UserId,
    },
    Update(UpdateWorkOrder),
    Cancel {
        reason: String,
    },
    Review(ReviewRequest),
}

/// A supervisor's step as it travels from a device: which work order, when, and what.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispatch {
    pub work_order_id: WorkOrderId,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub action: DispatchAction,
}

/// What a step does to an existing work order.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchEffect {
    pub work_order: WorkOrder,
    /// The technician who lost the work order by a reassignment.
    pub removed_from: Option<UserId>,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    #[error("a work order is created once; {0} already exists")]
    AlreadyExists(String),
    #[error("work order {0} does not exist")]
    Missing(WorkOrderId),
}

impl WorkOrder {
    /// The work order a call becomes: deadlines from the customer's policy and the fault level,
    /// counted from the report time; the number from the date and the id, so a device offline
    /// and the server name it alike; assigned when an assignee is given.
    pub fn from_call(
        id: WorkOrderId,
        call: &CreateWorkOrder,
        policy: &ServicePolicy,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder, InvalidInput> {
        let reported_at = call.reported_at.unwrap_or(now);
        Ok(WorkOrder {
            id,
            number: crate::work_order::first_number("WO", id, reported_at),
            customer_id: call.customer_id,
            site_id: call.site_id,
            asset_id: call.asset_id,
            contact: Contact {
                name: required_text("contact name", &call.contact.name, 100)?,
                phone: required_text("contact phone", &call.contact.phone, 40)?,
            },
            kind: call.kind,
            fault_level: call.fault_level,
            symptom: required_text("symptom", &call.symptom, 4000)?,
            reported_by: required_text("reported by", &call.reported_by, 200)?,
            reported_at,
            assignee: call.assignee,
            scheduled_for: call.scheduled_for,
            billing: call.billing,
            status: if call.assignee.is_some() { WorkOrderStatus::Assigned } else { WorkOrderStatus::New },
            instructions: optional_text("instructions", &call.instructions, 4000)?,
            template_id: call.template_id,
            deadlines: policy.deadlines(call.fault_level, reported_at),
            responded_at: None,
            arrived_at: None,
            completed_at: None,
            status_note: None,
            visit_version: 0,
        })
    }
}

/// Applies a supervisor's step to a work order. The supervisor-owned fields (assignee,
/// schedule, fault level and with it the deadlines, instructions) take the supervisor's value;
/// status follows the state machine; a cancel wins over anything not yet signed.
pub fn apply(
    current: &WorkOrder,
    action: &DispatchAction,
    policy: &ServicePolicy,
) -> Result<DispatchEffect, DispatchError> {
    let mut next = current.clone();
    let mut removed_from = None;
    match action {
        DispatchAction::Create(_) => return Err(DispatchError::AlreadyExists(current.number.clone())),
        DispatchAction::Assign { assignee } => {
            next.status = current.status.apply(StatusAction::Assign)?;
            if current.assignee.is_some_and(|previous| previous != *assignee) {
                removed_from = current.assignee;
            }
            next.assignee = Some(*assignee);
        }
        DispatchAction::Cancel { reason } => {
            next.status = current.status.apply(StatusAction::Cancel)?;
            next.status_note = Some(required_text("reason", reason, 1000)?);
        }
        DispatchAction::Update(update) => {
            if !current.status.is_open() {
                return Err(RuleViolation::VisitLocked(current.status).into());
            }
            if let Some(at) = update.scheduled_for {
                next.scheduled_for = Some(at);
            }
            if let Some(level) = update.fault_level {
                next.fault_level = level;
                next.deadlines = policy.deadlines(level, current.reported_at);
            }
            if let Some(text) = &update.instructions {
                next.instructions = optional_text("instructions", text, 4000)?;
            }
        }
        DispatchAction::Review(ReviewRequest::Approve) => {
            next.status = current.status.apply(StatusAction::Approve)?;
            next.status_note = None;
        }
        DispatchAction::Review(ReviewRequest::Return { reason }) => {
            next.status = current.status.apply(StatusAction::Return)?;
            next.status_note = Some(required_text("reason", reason, 1000)?);
        }
    }
    Ok(DispatchEffect { work_order: next, removed_from })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicyId;
    use chrono::TimeZone;

    fn policy() -> ServicePolicy {
        ServicePolicy::standard(PolicyId::new())
    }

    fn call() -> CreateWorkOrder {
        CreateWorkOrder {
            customer_id: CustomerId::new(),
            site_id: SiteId::new(),
            asset_id: None,
            contact: Contact { name: " 王工 ".into(), phone: "13800000000".into() },
            kind: WorkOrderKind::Repair,
            fault_level: FaultLevel::Critical,
            symptom: "主机不启动".into(),
            reported_by: "王工".into(),
            reported_at: None,
            assignee: None,
            scheduled_for: None,
            billing: BillingBasis::Contract,
            instructions: String::new(),
            template_id: None,
        }
    }

    #[test]
    fn a_call_becomes_a_work_order_with_its_deadlines_and_a_number_from_its_id() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
        let id = WorkOrderId::new();
        let w = WorkOrder::from_call(id, &call(), &policy(), now).unwrap();
        assert_eq!(w.status, WorkOrderStatus::New);
        assert_eq!(w.contact.name, "王工");
        assert_eq!(w.deadlines, policy().deadlines(FaultLevel::Critical, now));
        assert!(w.number.starts_with("WO-20261130-"), "{}", w.number);
        assert_eq!(w.number, WorkOrder::from_call(id, &call(), &policy(), now).unwrap().number);
        let blank = CreateWorkOrder { symptom: "  ".into(), ..call() };
        assert!(WorkOrder::from_call(id, &blank, &policy(), now).is_err());
    }

    #[test]
    fn steps_follow_the_state_machine_and_a_return_carries_its_reason() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
        let w = WorkOrder::from_call(WorkOrderId::new(), &call(), &policy(), now).unwrap();
        let (a, b) = (UserId::new(), UserId::new());
        let assigned = apply(&w, &DispatchAction::Assign { assignee: a }, &policy()).unwrap();
        assert_eq!((assigned.work_order.status, assigned.removed_from), (WorkOrderStatus::Assigned, None));
        let moved = apply(&assigned.work_order, &DispatchAction::Assign { assignee: b }, &policy()).unwrap();
        assert_eq!(moved.removed_from, Some(a));
        let refused = apply(&moved.work_order, &DispatchAction::Review(ReviewRequest::Approve), &policy());
        assert!(matches!(refused, Err(DispatchError::Rule(_))));
        let mut done = moved.work_order.clone();
        done.status = WorkOrderStatus::Completed;
        let back = DispatchAction::Review(ReviewRequest::Return { reason: "照片不清".into() });
        let returned = apply(&done, &back, &policy()).unwrap().work_order;
        assert_eq!((returned.status, returned.status_note.as_deref()), (WorkOrderStatus::Returned, Some("照片不清")));
        let level =
            DispatchAction::Update(UpdateWorkOrder { fault_level: Some(FaultLevel::Minor), ..Default::default() });
        let minor = apply(&w, &level, &policy()).unwrap().work_order;
        assert_eq!(minor.deadlines, policy().deadlines(FaultLevel::Minor, now));
        assert!(matches!(
            apply(&w, &DispatchAction::Create(Box::new(call())), &policy()),
            Err(DispatchError::AlreadyExists(_))
        ));
    }
}
