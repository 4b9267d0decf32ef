use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fieldbook_domain::{UserId, WorkOrder, WorkOrderId};
use fieldbook_protocol::{
    AssignRequest, CancelRequest, CreateWorkOrder, ErrorBody, ReviewRequest, UpdateWorkOrder, UserInfo, WorkOrderFilter,
};
use fieldbook_server_db::SupervisorChange;

use crate::AppState;
use crate::auth::Actor;
use crate::authz::{Action, Scope, authorize, work_order_scope};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, parse_id};

async fn user(state: &AppState, id: Option<UserId>) -> ApiResult<Option<UserInfo>> {
    match id {
        Some(id) => Ok(state.db.user(id).await?),
        None => Ok(None),
    }
}

/// Loads a work order the actor may read, with its assignee.
pub(crate) async fn readable(state: &AppState, actor: &Actor, id: &str) -> ApiResult<(WorkOrder, Option<UserInfo>)> {
    let id: WorkOrderId = parse_id(id)?;
    let work_order =
        state.db.work_order(id).await?.ok_or_else(|| ApiError::not_found(format!("no work order {id}")))?;
    let assignee = user(state, work_order.assignee).await?;
    authorize(actor, Action::ReadWorkOrder { work_order: &work_order, assignee: assignee.as_ref() })?;
    Ok((work_order, assignee))
}

/// Work orders the caller may see: a technician's own, a supervisor's team's, all for an admin.
#[utoipa::path(get, operation_id = "list_work_orders", path = "/v1/work-orders", params(WorkOrderFilter), responses(
    (status = 200, body = Vec<WorkOrder>),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(mut filter): ApiQuery<WorkOrderFilter>,
) -> ApiResult<Json<Vec<WorkOrder>>> {
    if filter.limit.is_some_and(|l| l == 0 || l > 5000) {
        return Err(ApiError::bad_request("limit must be 1 to 5000"));
    }
    let team_of = match work_order_scope(&actor) {
        Scope::Own(me) => {
            if filter.assignee.is_some_and(|a| a != me) {
                return Err(ApiError::forbidden("a technician sees only their own work orders"));
            }
            filter.assignee = Some(me);
            None
        }
        Scope::Team(me) => Some(me),
        Scope::All => None,
    };
    Ok(Json(state.db.work_orders(&filter, team_of).await?))
}

/// Records a work order from a customer's call; its deadlines follow from the report time,
/// the fault level and the customer's service policy.
#[utoipa::path(post, operation_id = "create_work_order", path = "/v1/work-orders", request_body = CreateWorkOrder, responses(
    (status = 201, body = WorkOrder),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(request): ApiJson<CreateWorkOrder>,
) -> ApiResult<(StatusCode, Json<WorkOrder>)> {
    let assignee = user(&state, request.assignee).await?;
    if request.assignee.is_some() && assignee.is_none() {
        return Err(ApiError::not_found("the assignee does not exist"));
    }
    authorize(&actor, Action::CreateWorkOrder { assignee: assignee.as_ref() })?;
    let customer =
        state.db.customer(request.customer_id).await?.ok_or_else(|| ApiError::not_found("no such customer"))?;
    let site = state.db.site(request.site_id).await?.ok_or_else(|| ApiError::not_found("no such site"))?;
    if site.customer_id != customer.id {
        return Err(ApiError::bad_request("the site does not belong to the customer"));
    }
    if let Some(asset_id) = request.asset_id {
        let asset = state.db.asset(asset_id).await?.ok_or_else(|| ApiError::not_found("no such asset"))?;
        if asset.site_id != site.id {
            return Err(ApiError::bad_request("the asset is not at that site"));
        }
    }
    if let Some(template_id) = request.template_id {
        state.db.template(template_id).await?.ok_or_else(|| ApiError::not_found("no such checklist template"))?;
    }
    let policy = state
        .db
        .policy(customer.policy_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the customer's service policy is missing"))?;
    let work_order = WorkOrder::from_call(WorkOrderId::new(), &request, &policy, state.clock.now())?;
    let stored = state.db.create_work_order(work_order).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// One work order.
#[utoipa::path(get, operation_id = "get_work_order", path = "/v1/work-orders/{id}", params(("id" = String, Path)), responses(
    (status = 200, body = WorkOrder),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(readable(&state, &actor, &id).await?.0))
}

async fn change(state: &AppState, actor: &Actor, id: &str, change: SupervisorChange) -> ApiResult<Json<WorkOrder>> {
    let (work_order, assignee) = readable(state, actor, id).await?;
    let new_assignee = match &change {
        SupervisorChange::Assign(user_id) => {
            Some(state.db.user(*user_id).await?.ok_or_else(|| ApiError::not_found("the assignee does not exist"))?)
        }
        _ => None,
    };
    authorize(
        actor,
        Action::ChangeWorkOrder {
            work_order: &work_order,
            assignee: assignee.as_ref(),
            new_assignee: new_assignee.as_ref(),
        },
    )?;
    Ok(Json(state.db.change_work_order(work_order.id, change, state.clock.now()).await?))
}

/// Changes the supervisor-owned fields: schedule, fault level (and with it the deadlines),
/// instructions.
#[utoipa::path(patch, operation_id = "update_work_order", path = "/v1/work-orders/{id}", params(("id" = String, Path)), request_body = UpdateWorkOrder, responses(
    (status = 200, body = WorkOrder),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn update(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateWorkOrder>,
) -> ApiResult<Json<WorkOrder>> {
    change(&state, &actor, &id, SupervisorChange::Update(request)).await
}

/// Assigns or reassigns a work order to a technician of the supervisor's team. The previous
/// assignee's device drops it at its next sync.
#[utoipa::path(post, operation_id = "assign_work_order", path = "/v1/work-orders/{id}/assign", params(("id" = String, Path)), request_body = AssignRequest, responses(
    (status = 200, body = WorkOrder),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn assign(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<AssignRequest>,
) -> ApiResult<Json<WorkOrder>> {
    change(&state, &actor, &id, SupervisorChange::Assign(request.assignee)).await
}

/// Cancels a work order not yet signed; a supervisor's cancel wins.
#[utoipa::path(post, operation_id = "cancel_work_order", path = "/v1/work-orders/{id}/cancel", params(("id" = String, Path)), request_body = CancelRequest, responses(
    (status = 200, body = WorkOrder),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn cancel(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<CancelRequest>,
) -> ApiResult<Json<WorkOrder>> {
    change(&state, &actor, &id, SupervisorChange::Cancel { reason: request.reason }).await
}

/// Approves a completed visit, or returns it to the technician with a reason.
#[utoipa::path(post, operation_id = "review_work_order", path = "/v1/work-orders/{id}/review", params(("id" = String, Path)), request_body = ReviewRequest, responses(
    (status = 200, body = WorkOrder),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn review(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> ApiResult<Json<WorkOrder>> {
    change(&state, &actor, &id, SupervisorChange::Review(request)).await
}
