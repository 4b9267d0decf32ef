//! Users and devices.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fieldbook_domain::{Role, UserId, text};
use fieldbook_protocol::{CreateUser, DeviceInfo, ErrorBody, UserInfo};
use fieldbook_server_db::UserRecord;

use crate::AppState;
use crate::auth::{self, Actor};
use crate::authz::{Action, Scope, authorize, work_order_scope};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, parse_id};

/// Everyone's accounts.
#[utoipa::path(get, path = "/v1/users", responses((status = 200, body = Vec<UserInfo>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn users(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<Vec<UserInfo>>> {
    authorize(&actor, Action::ReadUsers)?;
    Ok(Json(state.db.users().await?))
}

/// Creates an account (passwords are stored as argon2id hashes).
#[utoipa::path(post, path = "/v1/users", request_body = CreateUser, responses(
    (status = 201, body = UserInfo),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(request): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserInfo>)> {
    authorize(&actor, Action::ManageUsers)?;
    let user = new_user_record(&state, request).await?;
    Ok((StatusCode::CREATED, Json(state.db.create_user(user).await?)))
}

/// Checks a new account and hashes its password.
pub async fn new_user_record(state: &AppState, request: CreateUser) -> ApiResult<UserRecord> {
    let username = text::required_text("user name", &request.username, 100)?;
    if username.chars().any(char::is_whitespace) {
        return Err(ApiError::bad_request("a user name has no spaces"));
    }
    if request.password.chars().count() < 8 || request.password.len() > 1000 {
        return Err(ApiError::bad_request("a password has at least 8 characters"));
    }
    if let Some(supervisor) = request.supervisor_id {
        let found = state.db.user(supervisor).await?;
        if !found.is_some_and(|s| s.role == Role::Supervisor) {
            return Err(ApiError::bad_request("supervisor_id must name a supervisor"));
        }
    }
    let password = request.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| ApiError::bad_request("the password could not be hashed"))?;
    Ok(UserRecord {
        info: UserInfo {
            id: UserId::new(),
            username: username.clone(),
            name: text::required_text("name", &request.name, 100)?,
            staff_no: text::required_text("staff number", &request.staff_no, 40)?,
            role: request.role,
            supervisor_id: request.supervisor_id,
            disabled: false,
        },
        password_hash,
    })
}

/// Disables an account: its devices stop syncing at once.
#[utoipa::path(post, path = "/v1/users/{id}/disable", params(("id" = String, Path)), responses(
    (status = 200, body = UserInfo),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn disable_user(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserInfo>> {
    authorize(&actor, Action::ManageUsers)?;
    let id: UserId = parse_id(&id)?;
    if id == actor.user.id {
        return Err(ApiError::bad_request("you cannot disable your own account"));
    }
    Ok(Json(state.db.set_user_disabled(id, true).await?))
}

/// Enables a disabled account again.
#[utoipa::path(post, path = "/v1/users/{id}/enable", params(("id" = String, Path)), responses(
    (status = 200, body = UserInfo),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn enable_user(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserInfo>> {
    authorize(&actor, Action::ManageUsers)?;
    let id: UserId = parse_id(&id)?;
    Ok(Json(state.db.set_user_disabled(id, false).await?))
}

/// Enrolled devices with their last sync, last stored change and unresolved conflicts: a
/// supervisor's team's and their own, every one for an admin.
#[utoipa::path(get, path = "/v1/devices", responses((status = 200, body = Vec<DeviceInfo>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn devices(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<Vec<DeviceInfo>>> {
    authorize(&actor, Action::ReadDevices)?;
    let mut devices = state.db.devices().await?;
    if let Scope::Team(me) = work_order_scope(&actor) {
        let team: Vec<UserId> =
            state.db.users().await?.into_iter().filter(|u| u.supervisor_id == Some(me)).map(|u| u.id).collect();
        devices.retain(|d| d.user_id == me || team.contains(&d.user_id));
    }
    Ok(Json(devices))
}

/// Revokes a device (a lost tablet): its token stops working at once. An admin revokes any; a
/// supervisor their technicians'.
#[utoipa::path(post, path = "/v1/devices/{id}/revoke", params(("id" = String, Path)), responses(
    (status = 200, body = DeviceInfo),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn revoke_device(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<DeviceInfo>> {
    let id = text::required_text("device id", &id, 64)?;
    let device = state.db.devices().await?.into_iter().find(|d| d.id == id);
    let owner = match &device {
        Some(d) => state.db.user(d.user_id).await?,
        None => None,
    };
    authorize(&actor, Action::RevokeDevice { owner: owner.as_ref() })?;
    if device.is_none() {
        return Err(ApiError::not_found(format!("no device {id}")));
    }
    Ok(Json(state.db.revoke_device(&id, state.clock.now()).await?))
}
