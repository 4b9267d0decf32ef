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
    let mut conflicts = state.db.conflicts(own, team_of, &filter).await?;
    let mut assignees = std::collections::HashMap::new();
    for conflict in &mut conflicts {
        hide_what_may_not_be_read(&state, &actor, conflict, &mut assignees).await?;
    }
    Ok(Json(conflicts))
}

/// A conflict shows the work order as the server holds it now only to whoever may read that
/// work order now: a change refused because the work order went to another technician (or
/// team) must not hand its customer, contact and symptom to the one who lost it. Their own
/// change (`local`) they still see. `assignees` keeps the users looked up for a page.
async fn hide_what_may_not_be_read(
    state: &AppState,
    actor: &Actor,
    conflict: &mut ConflictInfo,
    assignees: &mut std::collections::HashMap<fieldbook_domain::UserId, Option<fieldbook_protocol::UserInfo>>,
) -> ApiResult<()> {
    let Some(work_order) = &conflict.server else { return Ok(()) };
    let assignee = match work_order.assignee {
        Some(id) => match assignees.get(&id) {
            Some(user) => user.clone(),
            None => {
                let user = state.db.user(id).await?;
                assignees.insert(id, user.clone());
                user
            }
        },
        None => None,
    };
    if authorize(actor, Action::ReadWorkOrder { work_order, assignee: assignee.as_ref() }).is_err() {
        conflict.server = None;
        conflict.work_order_number = None;
    }
    Ok(())
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
    let mut resolved = state.db.resolve_conflict(id, actor.user.id, chrono::Utc::now()).await?;
    hide_what_may_not_be_read(&state, &actor, &mut resolved, &mut std::collections::HashMap::new()).await?;
    Ok(Json(resolved))
}
