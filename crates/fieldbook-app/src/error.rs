use fieldbook_domain::{InvalidInput, RuleViolation};
use fieldbook_store::StoreError;
use serde::Serialize;
use ts_rs::TS;

/// What kind of failure; the UI branches on this, never on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The input can never be accepted; the message says what to fix.
    InvalidInput,
    /// A rule of the work refused it (e.g. a signed visit is locked).
    RuleViolation,
    NotFound,
    /// Someone else's work order.
    Forbidden,
    NotSignedIn,
    /// The local database failed; nothing was written.
    Storage,
    /// The server could not be reached or is too new for this app; local work is safe.
    Offline,
    /// Changes on this device have not reached the server yet (e.g. when signing out).
    Unsynced,
}

/// The one error shape that crosses into the UI.
#[derive(Debug, Clone, PartialEq, Serialize, TS, thiserror::Error)]
#[ts(export)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { code, message: message.into() }
    }
}

impl From<InvalidInput> for AppError {
    fn from(err: InvalidInput) -> Self {
        AppError::new(ErrorCode::InvalidInput, err.to_string())
    }
}

impl From<RuleViolation> for AppError {
    fn from(err: RuleViolation) -> Self {
        AppError::new(ErrorCode::RuleViolation, err.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Invalid(e) => e.into(),
            StoreError::Rule(e) => e.into(),
            StoreError::NotFound { .. } => AppError::new(ErrorCode::NotFound, err.to_string()),
            StoreError::Migration(_) | StoreError::Sqlite(_) | StoreError::Corrupt(_) => {
                AppError::new(ErrorCode::Storage, err.to_string())
            }
        }
    }
}
