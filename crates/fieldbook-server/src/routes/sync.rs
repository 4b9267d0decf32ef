use axum::Json;
use axum::extract::State;
use fieldbook_protocol::{ErrorBody, MAX_PULL_PAGE, MAX_PUSH_MUTATIONS, PullResponse, PushRequest, PushResponse};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Actor;
use crate::authz::{Action, authorize};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};

/// Stores a batch of the device's mutations, each exactly once.
///
/// Numbers must continue the device's sequence; a batch that repeats numbers already stored
/// (a retry) is answered from what was stored and changes nothing. A gap is refused (409
/// `sequence_gap`) and nothing is stored. A mutation the rules refuse is acknowledged as
/// `rejected` and kept as a conflict; the device must not resend it.
#[utoipa::path(post, path = "/v1/sync/push", request_body = PushRequest, responses(
    (status = 200, body = PushResponse),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody),
    (status = 413, body = ErrorBody),
))]
pub async fn push(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(request): ApiJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    authorize(&actor, Action::PushRecords)?;
    if request.mutations.len() > MAX_PUSH_MUTATIONS {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("send at most {MAX_PUSH_MUTATIONS} mutations per push"),
        ));
    }
    let now = state.clock.now();
    let response = state.db.push(&actor.device, &actor.user, &request.mutations, now).await?;
    metrics::counter!("fieldbook_sync_push_batches_total").increment(1);
    metrics::counter!("fieldbook_sync_mutations_total").increment(request.mutations.len() as u64);
    Ok(Json(response))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PullParams {
    /// The cursor of the last page (0 for everything).
    #[serde(default)]
    after: u64,
    /// Page size, 1 to 1000 (default 500).
    limit: Option<u32>,
    /// Changes waiting in the device's outbox as it pulls, shown to its supervisor.
    pending: Option<u64>,
}

/// The caller's changes after a cursor, in order, a page at a time.
#[utoipa::path(get, path = "/v1/sync/pull", params(PullParams), responses(
    (status = 200, body = PullResponse),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
))]
pub async fn pull(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(params): ApiQuery<PullParams>,
) -> ApiResult<Json<PullResponse>> {
    authorize(&actor, Action::PullOwnStream)?;
    let limit = params.limit.unwrap_or(500);
    if limit == 0 || limit > MAX_PULL_PAGE {
        return Err(ApiError::bad_request(format!("limit must be 1 to {MAX_PULL_PAGE}")));
    }
    let page = state.db.pull(actor.user.id, params.after, limit).await?;
    state.db.record_sync(&actor.device.id, state.clock.now(), params.pending).await?;
    metrics::counter!("fieldbook_sync_pulls_total").increment(1);
    Ok(Json(page))
}
