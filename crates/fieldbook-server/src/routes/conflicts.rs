//! Changes devices made that the server refused. Both the technician and their supervisor see
//! them with both values; a supervisor marks one as dealt with once it is put right.

use axum::Json;
use axum::extract::State;
use fieldbook_protocol::{ConflictFilter, ConflictInfo, ErrorBody};

use crate::AppState;
use crate::auth::Actor;
use crate::authz::{Action, Scope, authorize, work_order_scope};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};

/// Refused changes, newest first: a technician's own, a supervisor's team's, all for an admin.
/// A page holds `limit` (default 200); the next page is the one `before` the last `id` of this
/// one.
#[utoipa::path(get, operation_id = "list_conflicts", path = "/v1/conflicts", params(ConflictFilter), responses(
    (status = 200, body = Vec<ConflictInfo>),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(filter): ApiQuery<ConflictFilter>,
) -> ApiResult<Json<Vec<ConflictInfo>>> {
    if filter.limit.is_some_and(|l| l == 0 || l > 1000) {
        return Err(ApiError::bad_request("limit must be 1 to 1000"));
    }
    let (own, team_of) = match work_order_scope(&actor) {
        Scope::Own(me) => (Some(me), None),
        Scope::Team(me) => (None, Some(me)),
        Scope::All => (None, None),
    };
    Ok(Json(state.db.conflicts(own, team_of, &filter).await?))
}

/// Marks a conflict as dealt with. The record of it stays; resolving twice keeps the first.
#[utoipa::path(post, operation_id = "resolve_conflict", path = "/v1/conflicts/{id}/resolve", params(("id" = i64, Path, description = "conflict number")), responses(
    (status = 200, body = ConflictInfo),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn resolve(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ConflictInfo>> {
    let not_found = || ApiError::not_found(format!("no conflict {id}"));
    let conflict = state.db.conflict(id).await?.ok_or_else(not_found)?;
    let technician = state.db.user(conflict.user_id).await?;
    authorize(&actor, Action::ResolveConflict { technician: technician.as_ref() })?;
    Ok(Json(state.db.resolve_conflict(id, actor.user.id, chrono::Utc::now()).await?))
}
