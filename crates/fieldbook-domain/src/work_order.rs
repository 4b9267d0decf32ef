//! Work orders and what they hang off: customers, sites, assets, the people involved, and the
//! status state machine.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{InvalidInput, RuleViolation};
use crate::ids::{AssetId, CustomerId, PolicyId, SiteId, TemplateId, UserId, WorkOrderId};
use crate::policy::Deadlines;

/// Parses the snake_case names used in storage and on the wire.
macro_rules! named_enum {
    ($name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidInput;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(InvalidInput::UnknownValue {
                        what: $what,
                        value: text.to_owned(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

/// 故障等级. Sets the service-level deadlines through the contract's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FaultLevel {
    /// 一级 / 重大故障: system down, service interrupted, or key data lost.
    Critical,
    /// 二级 / 主要故障: service partly lost, or risk of an outage.
    Major,
    /// 三级 / 次要故障: function or performance affected, key business not.
    Minor,
}
named_enum!(FaultLevel, "fault level" { Critical = "critical", Major = "major", Minor = "minor" });

/// The kind of visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderKind {
    /// 维修
    Repair,
    /// 巡检
    Patrol,
    /// 保养
    Maintenance,
    /// 安装调试/验收
    Installation,
    /// 回访
    ReturnVisit,
}
named_enum!(WorkOrderKind, "work order kind" {
    Repair = "repair", Patrol = "patrol", Maintenance = "maintenance",
    Installation = "installation", ReturnVisit = "return_visit",
});

/// Who pays: 免费服务/三包, 合同服务 or 有偿服务.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BillingBasis {
    Warranty,
    Contract,
    Paid,
}
named_enum!(BillingBasis, "billing basis" { Warranty = "warranty", Contract = "contract", Paid = "paid" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Technician,
    Supervisor,
    Admin,
}
named_enum!(Role, "role" { Technician = "technician", Supervisor = "supervisor", Admin = "admin" });

/// Where a work order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderStatus {
    /// Recorded from a call, nobody assigned yet.
    New,
    Assigned,
    EnRoute,
    OnSite,
    /// Signed by the customer; the visit record is now locked.
    Completed,
    /// Reviewed and accepted by a supervisor.
    Approved,
    /// Sent back by a supervisor with a reason; the technician reopens it as a new version.
    Returned,
    Cancelled,
}
named_enum!(WorkOrderStatus, "work order status" {
    New = "new", Assigned = "assigned", EnRoute = "en_route", OnSite = "on_site",
    Completed = "completed", Approved = "approved", Returned = "returned", Cancelled = "cancelled",
});

/// What someone does to a work order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    Assign,
    /// The technician acknowledges and sets off (接报响应).
    SetOff,
    /// The technician is back to assigned without arriving (turned back on the way).
    TurnBack,
    Arrive,
    Complete,
    Approve,
    Return,
    /// The technician reopens a returned visit to amend it.
    Reopen,
    Cancel,
}
named_enum!(StatusAction, "status action" {
    Assign = "assign", SetOff = "set_off", TurnBack = "turn_back", Arrive = "arrive",
    Complete = "complete", Approve = "approve", Return = "return", Reopen = "reopen", Cancel = "cancel",
});

impl StatusAction {
    pub(crate) fn past_tense(self) -> &'static str {
        match self {
            StatusAction::Assign => "assigned",
            StatusAction::SetOff => "set off for",
            StatusAction::TurnBack => "turned back",
            StatusAction::Arrive => "marked as arrived",
            StatusAction::Complete => "completed",
            StatusAction::Approve => "approved",
            StatusAction::Return => "returned",
            StatusAction::Reopen => "reopened",
            StatusAction::Cancel => "cancelled",
        }
    }

    pub(crate) fn hint(self) -> &'static str {
        match self {
            StatusAction::Assign => "only new or assigned work orders can be (re)assigned",
            StatusAction::SetOff => "set off from an assigned work order",
            StatusAction::TurnBack => "only a work order en route can turn back",
            StatusAction::Arrive => "set off first, then mark arrival",
            StatusAction::Complete => "only a visit on site can be completed",
            StatusAction::Approve | StatusAction::Return => "only completed visits are reviewed",
            StatusAction::Reopen => "only a returned visit can be reopened",
            StatusAction::Cancel => "finished work orders are kept as they are",
        }
    }

    /// Which roles may take this action. The server enforces this; the device uses it to show
    /// only the buttons that will work.
    pub fn allowed_for(self, role: Role) -> bool {
        use StatusAction::*;
        match role {
            Role::Technician => matches!(self, SetOff | TurnBack | Arrive | Complete | Reopen),
            Role::Supervisor | Role::Admin => matches!(self, Assign | Approve | Return | Cancel),
        }
    }
}

impl WorkOrderStatus {
    /// The state machine. Everything not listed is refused with a typed error.
    pub fn apply(self, action: StatusAction) -> Result<WorkOrderStatus, RuleViolation> {
        use StatusAction as A;
        use WorkOrderStatus as S;
        let next = match (self, action) {
            (S::New | S::Assigned, A::Assign) => S::Assigned,
            (S::Assigned, A::SetOff) => S::EnRoute,
            (S::EnRoute, A::TurnBack) => S::Assigned,
            (S::EnRoute, A::Arrive) => S::OnSite,
            (S::OnSite, A::Complete) => S::Completed,
            (S::Completed, A::Approve) => S::Approved,
            (S::Completed, A::Return) => S::Returned,
            (S::Returned, A::Reopen) => S::OnSite,
            // A supervisor's cancel wins over anything not yet signed.
            (S::New | S::Assigned | S::EnRoute | S::OnSite | S::Returned, A::Cancel) => S::Cancelled,
            (from, action) => return Err(RuleViolation::RefusedTransition { from, action }),
        };
        Ok(next)
    }

    /// Whether the technician may still add facts (answers, faults, parts, photos, sign-off).
    pub fn accepts_visit_records(self) -> bool {
        matches!(self, WorkOrderStatus::EnRoute | WorkOrderStatus::OnSite)
    }

    /// Open work: not finished and not cancelled.
    pub fn is_open(self) -> bool {
        !matches!(self, WorkOrderStatus::Completed | WorkOrderStatus::Approved | WorkOrderStatus::Cancelled)
    }
}

/// 甲方联系人: the person on site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub address: String,
    pub policy_id: PolicyId,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub id: SiteId,
    pub customer_id: CustomerId,
    pub name: String,
    pub address: String,
}

/// An installed piece of equipment (设备) with its warranty.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub id: AssetId,
    pub site_id: SiteId,
    pub model: String,
    pub serial: String,
    pub location: String,
    pub warranty_end: Option<NaiveDate>,
}

impl Asset {
    pub fn in_warranty_on(&self, day: NaiveDate) -> bool {
        self.warranty_end.is_some_and(|end| day <= end)
    }
}

/// A technician, supervisor or admin. Reports show name and staff number (工号).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub staff_no: String,
    pub role: Role,
}

/// 维修任务书 / 报修单.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: WorkOrderId,
    /// Human number, unique: imported as given (e.g. `WO-20261122-00042`); made on a device,
    /// `WO-<yyyymmdd>-<last six hex digits of the id>` or the id's next free number
    /// ([`numbers_for`]).
    pub number: String,
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub asset_id: Option<AssetId>,
    pub contact: Contact,
    pub kind: WorkOrderKind,
    pub fault_level: FaultLevel,
    /// 故障现象 as reported.
    pub symptom: String,
    pub reported_by: String,
    /// 接报时间: the deadlines count from here.
    #[serde(deserialize_with = "crate::rfc3339::utc")]
    pub reported_at: DateTime<Utc>,
    pub assignee: Option<UserId>,
    #[serde(default, deserialize_with = "crate::rfc3339::utc_option")]
    pub scheduled_for: Option<DateTime<Utc>>,
    pub billing: BillingBasis,
    pub status: WorkOrderStatus,
    pub instructions: String,
    pub template_id: Option<TemplateId>,
    pub deadlines: Deadlines,
    #[serde(default, deserialize_with = "crate::rfc3339::utc_option")]
    pub responded_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::rfc3339::utc_option")]
    pub arrived_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::rfc3339::utc_option")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Why a supervisor returned or cancelled it, shown to the technician.
    #[serde(default)]
    pub status_note: Option<String>,
    /// How many times the visit was reopened after a return. Each version is signed once, so
    /// version `v` is signed when `v + 1` sign-offs are on record.
    #[serde(default)]
    pub visit_version: u32,
}

/// The numbers a work order made on a device or by the server may take, best first: the
/// prefix, the report (or due) date and the last six hex digits of its id
/// (`WO-20261207-3F2A9C`), so a device offline and the server name it alike; then the same with
/// two more digits of the id each time, up to all 32, which only this id has.
///
/// Six digits are 24 random bits of a UUIDv7: among a few thousand such work orders a day two
/// share them more often than not (the birthday bound), so whoever stores one takes the first
/// of these numbers that is free and tells the others through the stored work order.
pub fn numbers_for(prefix: &str, id: WorkOrderId, date: DateTime<Utc>) -> impl Iterator<Item = String> {
    let hex = id.as_uuid().simple().to_string().to_uppercase();
    let day = date.format("%Y%m%d").to_string();
    let prefix = prefix.to_owned();
    (6..=32).step_by(2).map(move |digits| format!("{prefix}-{day}-{}", &hex[32 - digits..]))
}

/// The number a work order made on a device starts with: the first of [`numbers_for`].
pub fn first_number(prefix: &str, id: WorkOrderId, date: DateTime<Utc>) -> String {
    numbers_for(prefix, id, date).next().unwrap_or_default()
}

impl WorkOrder {
    /// Refuses any new visit record once the visit is signed or the order is closed.
    pub fn ensure_accepts_visit_records(&self) -> Result<(), RuleViolation> {
        if self.status.accepts_visit_records() {
            Ok(())
        } else if matches!(self.status, WorkOrderStatus::Completed | WorkOrderStatus::Approved) {
            Err(RuleViolation::VisitLocked(self.status))
        } else {
            Err(RuleViolation::NoVisitInProgress(self.status))
        }
    }

    /// Takes a status step at `at`: the state machine decides whether it is allowed, and the
    /// step records its time (set off answers the report, arrival, completion; a reopened
    /// visit starts a new version to be signed anew). The one place both the device and the
    /// server apply a step.
    pub fn take_step(&mut self, action: StatusAction, at: DateTime<Utc>) -> Result<(), RuleViolation> {
        self.status = self.status.apply(action)?;
        match action {
            StatusAction::SetOff => {
                self.responded_at.get_or_insert(at);
            }
            StatusAction::Arrive => self.arrived_at = Some(at),
            StatusAction::Complete => self.completed_at = Some(at),
            StatusAction::Reopen => {
                self.completed_at = None;
                self.visit_version += 1;
            }
            _ => {}
        }
        Ok(())
    }

    /// The earliest deadline not yet met, which is what the list sorts by.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        if !self.status.is_open() {
            return None;
        }
        let pending = [
            (self.responded_at.is_none(), Some(self.deadlines.respond_by)),
            (self.arrived_at.is_none(), Some(self.deadlines.arrive_by)),
            (self.completed_at.is_none(), Some(self.deadlines.resolve_by)),
        ];
        pending.into_iter().filter(|(open, _)| *open).find_map(|(_, at)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatusAction as A;
    use WorkOrderStatus as S;

    #[test]
    fn numbers_widen_from_six_digits_of_the_id_to_all_of_it() {
        let id: WorkOrderId = "0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b".parse().unwrap();
        let at = "2026-12-07T09:30:00Z".parse().unwrap();
        let numbers: Vec<String> = numbers_for("WO", id, at).collect();
        assert_eq!(numbers[0], "WO-20261207-0F1A2B");
        assert_eq!(numbers[1], "WO-20261207-9E0F1A2B");
        assert_eq!(numbers.last().unwrap(), "WO-20261207-0193A1B2C3D47E5F8A6B7C8D9E0F1A2B");
        assert_eq!(numbers.len(), 14);
        assert_eq!(first_number("WO", id, at), numbers[0]);
        // Two ids that share their last six digits part at the next number.
        let twin: WorkOrderId = "0193a1b2-c3d4-7e5f-8a6b-7c8d8e0f1a2b".parse().unwrap();
        let theirs: Vec<String> = numbers_for("WO", twin, at).collect();
        assert_eq!(theirs[0], numbers[0]);
        assert_ne!(theirs[1], numbers[1]);
    }

    /// Every (status, action) pair that the state machine allows, and where it leads.
    const ALLOWED: &[(S, A, S)] = &[
        (S::New, A::Assign, S::Assigned),
        (S::New, A::Cancel, S::Cancelled),
        (S::Assigned, A::Assign, S::Assigned),
        (S::Assigned, A::SetOff, S::EnRoute),
        (S::Assigned, A::Cancel, S::Cancelled),
        (S::EnRoute, A::TurnBack, S::Assigned),
        (S::EnRoute, A::Arrive, S::OnSite),
        (S::EnRoute, A::Cancel, S::Cancelled),
        (S::OnSite, A::Complete, S::Completed),
        (S::OnSite, A::Cancel, S::Cancelled),
        (S::Completed, A::Approve, S::Approved),
        (S::Completed, A::Return, S::Returned),
        (S::Returned, A::Reopen, S::OnSite),
        (S::Returned, A::Cancel, S::Cancelled),
    ];

    #[test]
    fn every_allowed_transition_leads_where_it_should() {
        for &(from, action, to) in ALLOWED {
            assert_eq!(from.apply(action), Ok(to), "{from} --{action}-->");
        }
    }

    #[test]
    fn every_other_transition_is_refused_with_a_typed_error() {
        let mut refused = 0;
        for &from in S::ALL {
            for &action in A::ALL {
                if ALLOWED.iter().any(|&(f, a, _)| f == from && a == action) {
                    continue;
                }
                let err = from.apply(action).unwrap_err();
                assert_eq!(err, RuleViolation::RefusedTransition { from, action });
                assert!(err.to_string().contains(from.as_str()), "{err}");
                refused += 1;
            }
        }
        assert_eq!(refused, S::ALL.len() * A::ALL.len() - ALLOWED.len());
    }

    #[test]
    fn approved_and_cancelled_are_final() {
        for &action in A::ALL {
            assert!(S::Approved.apply(action).is_err());
            assert!(S::Cancelled.apply(action).is_err());
        }
    }

    #[test]
    fn roles_take_only_their_own_actions() {
        assert!(A::Arrive.allowed_for(Role::Technician));
        assert!(!A::Approve.allowed_for(Role::Technician));
        assert!(A::Approve.allowed_for(Role::Supervisor));
        assert!(!A::Complete.allowed_for(Role::Supervisor));
    }

    #[test]
    fn names_round_trip() {
        for &s in S::ALL {
            assert_eq!(s.as_str().parse::<S>().unwrap(), s);
        }
        for &l in FaultLevel::ALL {
            assert_eq!(l.as_str().parse::<FaultLevel>().unwrap(), l);
        }
        assert!("urgent".parse::<FaultLevel>().unwrap_err().to_string().contains("critical"));
    }
}
