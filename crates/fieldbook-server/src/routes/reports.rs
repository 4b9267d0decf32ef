//! The report ledger: the signed reports of a work order, and one report checked now.

use axum::Json;
use axum::extract::State;
use fieldbook_protocol::{ErrorBody, LedgerEntry, ReportCheck};

use crate::AppState;
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::routes::work_orders::readable;

/// The signed reports of a work order, oldest first (each amendment names the one before).
#[utoipa::path(get, operation_id = "list_work_order_reports", path = "/v1/work-orders/{id}/reports", params(("id" = String, Path)), responses(
    (status = 200, body = Vec<LedgerEntry>),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn of_work_order(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<LedgerEntry>>> {
    let (work_order, _) = readable(&state, &actor, &id).await?;
    Ok(Json(state.db.reports(work_order.id).await?))
}

/// One signed report by its hash (at least 8 hex digits, or its short code), checked now: its
/// hash, the device's signature, every image against the server's copy, the key the device
/// enrolled with and whether it was revoked, and its link in the ledger's chain.
#[utoipa::path(get, operation_id = "check_report", path = "/v1/reports/{hash}", params(("hash" = String, Path)), responses(
    (status = 200, body = ReportCheck),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn check(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(hash): ApiPath<String>,
) -> ApiResult<Json<ReportCheck>> {
    let not_found = || ApiError::not_found(format!("no signed report {hash}"));
    // Who may see it first; the check reads every image.
    let entry = state.db.report_entry(&hash).await?.ok_or_else(not_found)?;
    readable(&state, &actor, &entry.work_order_id.to_string()).await?;
    Ok(Json(state.db.check_report(&entry.hash).await?.ok_or_else(not_found)?))
}
