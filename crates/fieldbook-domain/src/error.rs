//! Typed refusals. Each message says what is wrong and what to do about it, because it may be
//! shown to a technician standing in a machine room.

use thiserror::Error;

use crate::work_order::{StatusAction, WorkOrderStatus};

/// Input that can never be stored, whoever sends it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InvalidInput {
    #[error("'{value}' is not a valid {what}; use the id exactly as Fieldbook gave it")]
    MalformedId { what: &'static str, value: String },
    #[error("{field} is required; fill it in before saving")]
    EmptyText { field: &'static str },
    #[error("{field} is too long ({len} characters); keep it under {max}")]
    TextTooLong { field: &'static str, len: usize, max: usize },
    #[error("quantity must be at least 1 (got {0}); remove the part instead of entering zero")]
    QuantityNotPositive(i64),
    #[error("satisfaction must be a whole number from 1 to 5 (got {0})")]
    SatisfactionOutOfRange(i64),
    #[error("'{0}' is not a month; write it as year-month, e.g. 2026-11")]
    Month(String),
    #[error("{0}")]
    Schedule(String),
    #[error("the price of a paid part must be zero or more (got {0})")]
    NegativePrice(i64),
    #[error("{field} must be a number (got {value})")]
    NotANumber { field: &'static str, value: String },
    #[error("{what} '{value}' is unknown; expected one of: {expected}")]
    UnknownValue { what: &'static str, value: String, expected: &'static str },
    #[error("{field}: the end ({end}) is before the start ({start}); check both times")]
    EndBeforeStart { field: &'static str, start: String, end: String },
}

/// A rule of the domain refused the change.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RuleViolation {
    #[error("a work order that is {from} cannot be {action}; {hint}", from = .from.as_str(), action = .action.past_tense(), hint = .action.hint())]
    RefusedTransition { from: WorkOrderStatus, action: StatusAction },
    #[error("this visit was signed and is {status}; it can no longer be changed (a supervisor can return it for a new version)", status = .0.as_str())]
    VisitLocked(WorkOrderStatus),
    #[error("the work order is {status}, with no visit in progress; visit records are taken from setting off until the customer signs", status = .0.as_str())]
    NoVisitInProgress(WorkOrderStatus),
    #[error("checklist item '{0}' is not in this work order's checklist; pick an item from the list")]
    UnknownChecklistItem(String),
    #[error("checklist item '{item}' expects {expected}; the answer given was {given}")]
    AnswerKindMismatch { item: String, expected: &'static str, given: &'static str },
    #[error("the visit cannot be completed yet: {}", .0.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("; "))]
    Incomplete(Vec<crate::visit::Missing>),
    #[error("the record {0} being corrected does not belong to this work order")]
    SupersedesForeignRecord(String),
}
