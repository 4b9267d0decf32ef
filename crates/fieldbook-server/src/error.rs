//! The one error shape of the HTTP API: a status and `{code, message}`. Internal details stay
//! in the log; clients get a sentence that says what to do.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fieldbook_protocol::ErrorBody;
use fieldbook_server_db::DbError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// With `sequence_gap`: the mutation number the device must send again from.
    pub resend_from: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), resend_from: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A fault in the server itself; the message is for the log as much as for the caller.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// Every failed authentication looks the same, whatever failed.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in again: the user name or password is wrong, the account is disabled, or this device was revoked",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        metrics::counter!("fieldbook_api_errors_total", "code" => self.code).increment(1);
        (
            self.status,
            Json(ErrorBody { code: self.code.to_owned(), message: self.message, resend_from: self.resend_from }),
        )
            .into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        let message = err.to_string();
        match err {
            DbError::NotFound { .. } => ApiError::not_found(message),
            DbError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            DbError::Invalid(_) => ApiError::bad_request(message),
            DbError::Rule(_) => ApiError::new(StatusCode::CONFLICT, "rule_violation", message),
            DbError::Gap { resend_from, .. } => ApiError {
                resend_from: Some(resend_from),
                ..ApiError::new(StatusCode::CONFLICT, "sequence_gap", message)
            },
            DbError::Malformed(_) => ApiError::bad_request(message),
            DbError::CursorAhead { .. } => ApiError::new(StatusCode::CONFLICT, "cursor_ahead", message),
            DbError::IdTaken(_) => ApiError::new(StatusCode::CONFLICT, "id_taken", message),
            DbError::WrongOffset { .. } => ApiError::new(StatusCode::CONFLICT, "wrong_offset", message),
            DbError::HashMismatch { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch", message),
            DbError::Backend(_) => {
                tracing::error!(error = %message, "storage failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the server could not store or read data just now; nothing was changed, try again",
                )
            }
        }
    }
}

impl From<fieldbook_domain::InvalidInput> for ApiError {
    fn from(err: fieldbook_domain::InvalidInput) -> Self {
        ApiError::bad_request(err.to_string())
    }
}

impl From<fieldbook_domain::RuleViolation> for ApiError {
    fn from(err: fieldbook_domain::RuleViolation) -> Self {
        ApiError::new(StatusCode::CONFLICT, "rule_violation", err.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
