use axum::Json;
use axum::extract::State;
use fieldbook_protocol::{EnrollRequest, EnrollResponse, ErrorBody};
use fieldbook_server_db::NewDevice;

use crate::AppState;
use crate::auth::{self, ClientAddr};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;

/// Signs a device in with a user name and password and returns its device token.
///
/// Every failed sign-in answers alike (401), whatever was wrong; attempts are limited per
/// account and per address (429). Enrolling is idempotent per key: the user's device that
/// enrolled with the same `public_key`, unless revoked, is answered again (same `device_id`,
/// a new token that replaces the old one, and its `last_seq`), so a retry after a lost answer
/// leaves no orphan device.
#[utoipa::path(post, path = "/v1/enroll", request_body = EnrollRequest, responses(
    (status = 200, body = EnrollResponse),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 429, body = ErrorBody),
))]
pub async fn enroll(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> ApiResult<Json<EnrollResponse>> {
    let username = request.username.trim();
    if username.is_empty() || username.len() > 100 || request.password.len() > 1000 {
        return Err(ApiError::unauthorized());
    }
    let device_name = fieldbook_domain::text::required_text("device name", &request.device_name, 100)?;
    fieldbook_domain::evidence::check_public_key(&request.public_key)
        .map_err(|reason| ApiError::bad_request(format!("the device's report-signing key is refused: {reason}")))?;
    state.login_limits.check(username, addr.0)?;
    let record = state.db.user_by_username(username).await?;
    let password = request.password.clone();
    // Hashing is slow on purpose; keep it off the async workers.
    let (verified, record) = tokio::task::spawn_blocking(move || match record {
        Some(record) => (auth::verify_password(&password, &record.password_hash), Some(record)),
        None => {
            auth::verify_password(&password, auth::dummy_hash());
            (false, None)
        }
    })
    .await
    .map_err(|_| ApiError::unauthorized())?;
    let record = match record {
        Some(record) if verified && !record.info.disabled => record,
        _ => {
            tracing::info!(username, "sign-in refused");
            return Err(ApiError::unauthorized());
        }
    };
    let token = auth::new_token();
    let device = state
        .db
        .enroll_device(NewDevice {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: record.info.id,
            name: device_name,
            token_hash: auth::token_hash(&token),
            enrolled_at: state.clock.now(),
            public_key: Some(request.public_key.to_ascii_lowercase()),
        })
        .await?;
    tracing::info!(username, device = %device.id, "device enrolled");
    Ok(Json(EnrollResponse { device_id: device.id, token, user: record.info, last_seq: device.last_seq }))
}
