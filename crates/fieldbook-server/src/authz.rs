//! Who may do what: the one place the server decides authorization. Handlers name the action
//! and the resource; nothing else compares roles or owners.
//!
//! - A technician sees and changes only the work orders assigned to them and what hangs off
//!   those (records, photos, signatures), and syncs only their own stream.
//! - A supervisor sees and manages their team's work: work orders assigned to technicians whose
//!   supervisor they are, and unassigned ones; they edit the catalog and see devices.
//! - An admin manages users and devices, and sees everything.

use fieldbook_domain::{Role, WorkOrder};
use fieldbook_protocol::UserInfo;

use crate::auth::Actor;
use crate::error::ApiError;

pub enum Action<'a> {
    /// Read one work order; `assignee` is its assignee's record, if any.
    ReadWorkOrder {
        work_order: &'a WorkOrder,
        assignee: Option<&'a UserInfo>,
    },
    /// Create a work order, optionally assigned to `assignee`.
    CreateWorkOrder {
        assignee: Option<&'a UserInfo>,
    },
    /// Change a work order (assign, cancel, reschedule, review); `new_assignee` for (re)assignment.
    ChangeWorkOrder {
        work_order: &'a WorkOrder,
        assignee: Option<&'a UserInfo>,
        new_assignee: Option<&'a UserInfo>,
    },
    /// Push visit records from a device.
    PushRecords,
    /// Pull one's own change stream.
    PullOwnStream,
    UploadBlob,
    /// Read a blob referenced by these work orders (with their assignees).
    ReadBlob {
        work_orders: &'a [(WorkOrder, Option<UserInfo>)],
    },
    /// Mark a refused change of `technician` as dealt with.
    ResolveConflict {
        technician: Option<&'a UserInfo>,
    },
    ReadCatalog,
    EditCatalog,
    /// Read the periodic duties.
    ReadSchedules,
    /// Make, pause or resume a schedule whose work goes to `assignee` (none: the board).
    ManageSchedule {
        assignee: Option<&'a UserInfo>,
    },
    ReadDevices,
    /// Revoke a lost device of `owner`.
    RevokeDevice {
        owner: Option<&'a UserInfo>,
    },
    ManageDevices,
    ReadUsers,
    ManageUsers,
}

fn in_team(actor: &Actor, assignee: Option<&UserInfo>) -> bool {
    match assignee {
        None => true,
        Some(user) => user.supervisor_id == Some(actor.user.id),
    }
}

fn may_read(actor: &Actor, work_order: &WorkOrder, assignee: Option<&UserInfo>) -> bool {
    match actor.user.role {
        Role::Technician => work_order.assignee == Some(actor.user.id),
        Role::Supervisor => in_team(actor, assignee),
        Role::Admin => true,
    }
}

/// Allows the action or says, in one sentence, why not.
pub fn authorize(actor: &Actor, action: Action<'_>) -> Result<(), ApiError> {
    use Role::*;
    let role = actor.user.role;
    let allowed = match action {
        Action::ReadWorkOrder { work_order, assignee } => may_read(actor, work_order, assignee),
        Action::CreateWorkOrder { assignee } => {
            role == Supervisor
                && assignee.is_none_or(|a| a.role == Technician && !a.disabled && in_team(actor, Some(a)))
        }
        Action::ChangeWorkOrder { work_order, assignee, new_assignee } => {
            role == Supervisor
                && may_read(actor, work_order, assignee)
                && new_assignee.is_none_or(|a| a.role == Technician && !a.disabled && in_team(actor, Some(a)))
        }
        // A supervisor's device pushes dispatch steps, checked one by one against the team.
        Action::PushRecords => matches!(role, Technician | Supervisor),
        Action::UploadBlob => role == Technician,
        Action::PullOwnStream | Action::ReadCatalog => true,
        Action::ReadBlob { work_orders } => work_orders.iter().any(|(w, a)| may_read(actor, w, a.as_ref())),
        Action::ResolveConflict { technician } => match role {
            // Their team's conflicts, and their own refused dispatch steps.
            Supervisor => technician.is_some_and(|t| t.id == actor.user.id || in_team(actor, Some(t))),
            Admin => true,
            Technician => false,
        },
        Action::EditCatalog | Action::ReadDevices | Action::ReadSchedules => matches!(role, Supervisor | Admin),
        // Like dispatch: a supervisor's own technicians, or nobody yet.
        Action::ManageSchedule { assignee } => match role {
            Supervisor => assignee.is_none_or(|a| a.role == Technician && in_team(actor, Some(a))),
            Admin => true,
            Technician => false,
        },
        Action::ReadUsers => matches!(role, Supervisor | Admin),
        // A supervisor revokes their technicians' lost devices; an admin any.
        Action::RevokeDevice { owner } => match role {
            Supervisor => owner.is_some_and(|o| in_team(actor, Some(o))),
            Admin => true,
            Technician => false,
        },
        Action::ManageDevices | Action::ManageUsers => role == Admin,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{} ({}) may not do this: technicians work on their own work orders, supervisors on their team's, admins manage users and devices",
            actor.user.name, actor.user.role
        )))
    }
}

/// Which work orders a listing may show the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only those assigned to this technician.
    Own(fieldbook_domain::UserId),
    /// This supervisor's team's and unassigned ones.
    Team(fieldbook_domain::UserId),
    All,
}

pub fn work_order_scope(actor: &Actor) -> Scope {
    match actor.user.role {
        Role::Technician => Scope::Own(actor.user.id),
        Role::Supervisor => Scope::Team(actor.user.id),
        Role::Admin => Scope::All,
    }
}
