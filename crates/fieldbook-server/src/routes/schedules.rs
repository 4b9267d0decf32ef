//! Periodic duties (定期巡检/保养): supervisors make, list, pause and resume schedules; the
//! server creates each due date's work order ahead of time (on making, on resuming, and on
//! its timer, see `crate::run_schedules_every`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fieldbook_domain::ScheduleId;
use fieldbook_domain::schedule::PatrolSchedule;
use fieldbook_protocol::{CreateSchedule, ErrorBody, ScheduleActive, ScheduleResult, UserInfo};

use crate::AppState;
use crate::auth::Actor;
use crate::authz::{Action, Scope, authorize, work_order_scope};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, parse_id};

async fn assignee(state: &AppState, id: Option<fieldbook_domain::UserId>) -> ApiResult<Option<UserInfo>> {
    match id {
        Some(id) => Ok(Some(state.db.user(id).await?.ok_or_else(|| ApiError::not_found(format!("no user {id}")))?)),
        None => Ok(None),
    }
}

/// The schedules the caller may see: a supervisor's team's and unassigned ones, all for an admin.
#[utoipa::path(get, operation_id = "list_schedules", path = "/v1/schedules", responses(
    (status = 200, body = Vec<PatrolSchedule>),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
pub async fn list(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<Vec<PatrolSchedule>>> {
    authorize(&actor, Action::ReadSchedules)?;
    let team_of = match work_order_scope(&actor) {
        Scope::Team(me) => Some(me),
        _ => None,
    };
    Ok(Json(state.db.schedules(team_of).await?))
}

/// Makes a schedule and creates the work orders already due. Sending the same schedule again
/// (a retry) answers with the stored one and creates nothing.
#[utoipa::path(post, operation_id = "create_schedule", path = "/v1/schedules", request_body = CreateSchedule, responses(
    (status = 201, body = ScheduleResult),
    (status = 200, body = ScheduleResult, description = "the same schedule was made before"),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(request): ApiJson<CreateSchedule>,
) -> ApiResult<(StatusCode, Json<ScheduleResult>)> {
    let assignee = assignee(&state, request.assignee).await?;
    authorize(&actor, Action::ManageSchedule { assignee: assignee.as_ref() })?;
    if let Some(existing) = state.db.schedule(request.id).await? {
        let mut same = request.schedule(existing.created_at);
        same.active = existing.active;
        if same == existing {
            return Ok((StatusCode::OK, Json(ScheduleResult { schedule: existing, created: Vec::new() })));
        }
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("schedule {} already exists with other details; make a new one", request.id),
        ));
    }
    let (schedule, created) = state.db.create_schedule(request.schedule(state.clock.now())).await?;
    Ok((StatusCode::CREATED, Json(ScheduleResult { schedule, created })))
}

/// Pauses or resumes a schedule; resuming creates what is due now.
#[utoipa::path(put, operation_id = "set_schedule_active", path = "/v1/schedules/{id}/active", request_body = ScheduleActive,
    params(("id" = String, Path, description = "schedule id")),
    responses(
        (status = 200, body = ScheduleResult),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn set_active(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<ScheduleActive>,
) -> ApiResult<Json<ScheduleResult>> {
    let id: ScheduleId = parse_id(&id)?;
    let schedule = state.db.schedule(id).await?.ok_or_else(|| ApiError::not_found(format!("no schedule {id}")))?;
    let assignee = assignee(&state, schedule.assignee).await?;
    authorize(&actor, Action::ManageSchedule { assignee: assignee.as_ref() })?;
    let (schedule, created) = state.db.set_schedule_active(id, request.active, state.clock.now()).await?;
    Ok(Json(ScheduleResult { schedule, created }))
}
