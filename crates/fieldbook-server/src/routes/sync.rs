use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
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
/// (a retry) is answered from what was stored and changes nothing. A push is refused as a whole
/// only for what is wrong with the push itself, and then nothing is stored: malformed (400
/// `invalid_json`, 422, or 400 `invalid_input` for a number 0), a gap (409 `sequence_gap`, with
/// `resend_from`), too many mutations (413 `batch_too_large`). Anything about one mutation is
/// that mutation's outcome: `rejected` with a code, kept as a conflict, never resent, and the
/// rest of the batch goes on. `acked_through` is the batch's last number (0 for an empty batch).
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
#[into_params(parameter_in = Query)]
pub struct PullParams {
    /// The cursor of the last page (0 for everything).
    #[serde(default)]
    after: u64,
    /// Page size, 1 to 5000 (default 500).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
    /// Changes waiting in the device's outbox as it pulls, shown to its supervisor.
    pending: Option<u64>,
}

/// The page size asked for, or `default`; refused outside 1 to [`MAX_PULL_PAGE`].
fn page_size(asked: Option<u32>, default: u32) -> ApiResult<u32> {
    match asked.unwrap_or(default) {
        limit @ 1..=MAX_PULL_PAGE => Ok(limit),
        _ => Err(ApiError::bad_request(format!("limit must be 1 to {MAX_PULL_PAGE}"))),
    }
}

/// The caller's changes after a cursor, in order, a page at a time.
#[utoipa::path(get, path = "/v1/sync/pull", params(PullParams), responses(
    (status = 200, body = PullResponse),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 409, body = ErrorBody, description = "`cursor_ahead`: the cursor is past the end of the caller's changes; pull again from 0"),
))]
pub async fn pull(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(params): ApiQuery<PullParams>,
) -> ApiResult<Json<PullResponse>> {
    authorize(&actor, Action::PullOwnStream)?;
    let limit = page_size(params.limit, 500)?;
    let page = state.db.pull(actor.user.id, params.after, limit).await?;
    state.db.record_sync(&actor.device.id, state.clock.now(), params.pending).await?;
    metrics::counter!("fieldbook_sync_pulls_total").increment(1);
    Ok(Json(page))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// The cursor of the last page the device applied (0 for everything).
    #[serde(default)]
    after: u64,
    /// The largest page, 1 to 5000 (default 5000).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
    /// Changes waiting in the device's outbox as it pulls, shown to its supervisor.
    pending: Option<u64>,
}

/// The first page of a stream: small, so that the device starts writing at once.
pub const STREAM_FIRST_PAGE: u32 = 250;

/// What a stream still has to send.
struct Streaming {
    db: std::sync::Arc<dyn fieldbook_server_db::Database>,
    user: fieldbook_domain::UserId,
    limit: u32,
    /// No page is begun after this (`Config::pull_stream_budget_ms`).
    until: tokio::time::Instant,
    /// The page read before answering, sent first.
    first: Option<PullResponse>,
    /// Where and how large the next page is, if one follows.
    next: Option<(u64, u32)>,
}

impl Streaming {
    async fn next_line(mut self) -> Option<(Result<axum::body::Bytes, std::io::Error>, Streaming)> {
        let (page, size) = match self.first.take() {
            Some(page) => (page, STREAM_FIRST_PAGE.min(self.limit)),
            None => {
                let (cursor, size) = self.next.take()?;
                match self.db.pull(self.user, cursor, size).await {
                    Ok(page) => (page, size),
                    Err(err) => {
                        // The answer is cut: the device keeps the pages it has and asks again.
                        tracing::warn!(error = %err, "a pull stream stopped");
                        return Some((Err(std::io::Error::other(err.to_string())), self));
                    }
                }
            }
        };
        if page.more && tokio::time::Instant::now() < self.until {
            self.next = Some((page.cursor, (size.saturating_mul(3) / 2).min(self.limit)));
        }
        metrics::counter!("fieldbook_sync_pulls_total").increment(1);
        let mut line = serde_json::to_vec(&page).map_err(std::io::Error::other);
        if let Ok(line) = &mut line {
            line.push(b'\n');
        }
        Some((line.map(axum::body::Bytes::from), self))
    }
}

/// The caller's changes after a cursor, in order, as a stream of pages: one
/// compact page (`PullPage`) per line, each as `/v1/sync/pull` would answer it, read and sent one after
/// another without waiting for the device to ask (so a first sync of tens of thousands of
/// changes does not wait a round trip per page). Pages start small and grow by half up to
/// `limit`. The stream ends after the last page (`more: false`), or with a page that says
/// `more: true` once the server's budget (ten seconds by default) is spent; then the device
/// asks again from its cursor. A stream cut short ends without a complete last line: the
/// device keeps the pages it applied. Access is checked once, when the stream starts.
#[utoipa::path(get, path = "/v1/sync/pull/stream", params(StreamParams), responses(
    (status = 200, content_type = "application/x-ndjson", body = PullResponse,
        description = "One page per line, as /v1/sync/pull answers it"),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 409, body = ErrorBody, description = "`cursor_ahead`: the cursor is past the end of the caller's changes; pull again from 0"),
))]
pub async fn pull_stream(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(params): ApiQuery<StreamParams>,
) -> ApiResult<axum::response::Response> {
    authorize(&actor, Action::PullOwnStream)?;
    let limit = page_size(params.limit, MAX_PULL_PAGE)?;
    // The first page is read before answering, so that a failure is an error answer.
    let first = state.db.pull(actor.user.id, params.after, STREAM_FIRST_PAGE.min(limit)).await?;
    state.db.record_sync(&actor.device.id, state.clock.now(), params.pending).await?;
    let streaming = Streaming {
        db: state.db.clone(),
        user: actor.user.id,
        limit,
        until: tokio::time::Instant::now() + std::time::Duration::from_millis(state.config.pull_stream_budget_ms),
        first: Some(first),
        next: None,
    };
    // Fused: the compression layer may ask again after the end.
    let lines = futures_util::StreamExt::fuse(futures_util::stream::unfold(streaming, Streaming::next_line));
    let body = axum::body::Body::from_stream(lines);
    Ok(([(axum::http::header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}
