//! Fieldbook's domain: the vocabulary of after-sales field service and the rules that hold
//! whatever stores or transports it.
//!
//! Architecture invariant: this crate does no IO, no async, no SQL and knows nothing of Tauri
//! or HTTP. Time comes in through [`policy::Clock`] or as arguments.

pub mod checklist;
pub mod dispatch;
pub mod error;
pub mod evidence;
pub mod hlc;
pub mod ids;
pub mod monthly;
pub mod policy;
pub mod rfc3339;
pub mod schedule;
pub mod templates;
pub mod text;
pub mod visit;
pub mod work_order;

pub use checklist::{
    Answer, AnswerError, Assessment, CheckOutcome, ChecklistItem, ChecklistTemplate, ItemKind, Method, Standard,
};
pub use dispatch::{CreateWorkOrder, Dispatch, DispatchAction, ReviewRequest, UpdateWorkOrder};
pub use error::{InvalidInput, RuleViolation};
pub use hlc::Hlc;
pub use ids::*;
pub use policy::{Allowance, Clock, DeadlineState, Deadlines, FixedClock, LevelPromise, ServicePolicy};
pub use text::Bilingual;
pub use visit::{
    CorrectiveRequest, FaultDraft, FaultRecord, InspectionResult, Missing, Note, PartBilling, PartDraft, PartUsage,
    Photo, Satisfaction, SignOff, SignOffDraft, Visit,
};
pub use work_order::{
    Asset, BillingBasis, Contact, Customer, FaultLevel, Role, Site, StatusAction, User, WorkOrder, WorkOrderKind,
    WorkOrderStatus,
};
