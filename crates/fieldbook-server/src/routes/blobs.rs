use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fieldbook_domain::BlobId;
use fieldbook_protocol::{
    ErrorBody, MAX_BLOB_BYTES, MAX_CHUNK_BYTES, MissingBlobsRequest, MissingBlobsResponse, UploadStatus,
};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Actor;
use crate::authz::{Action, authorize};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, parse_id};

/// Which of these blobs the server lacks for this user, so a device uploads only those. A blob
/// someone else uploaded is missing here too: its bytes must come from this device.
#[utoipa::path(post, operation_id = "missing_blobs", path = "/v1/blobs/missing", request_body = MissingBlobsRequest, responses(
    (status = 200, body = MissingBlobsResponse),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: only a technician's device uploads"),
))]
pub async fn missing(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(request): ApiJson<MissingBlobsRequest>,
) -> ApiResult<Json<MissingBlobsResponse>> {
    authorize(&actor, Action::UploadBlob)?;
    if request.ids.len() > 1000 {
        return Err(ApiError::bad_request("ask about at most 1000 blobs at a time"));
    }
    Ok(Json(MissingBlobsResponse { missing: state.db.missing_blobs(&request.ids, actor.user.id).await? }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChunkParams {
    /// Where this chunk starts: the `received` of the upload's status.
    offset: u64,
    /// The whole blob's size in bytes.
    total: u64,
}

/// Uploads one chunk of a content-addressed blob (a photo or a signature image).
///
/// Chunks must arrive in order (`offset` = bytes received so far, else 409 `wrong_offset`);
/// an interrupted upload resumes from its status. When the last byte arrives the server
/// re-hashes the whole blob: if SHA-256 is not the id, the upload is discarded (422).
#[utoipa::path(put, operation_id = "upload_blob", path = "/v1/blobs/{id}", params(("id" = String, Path, description = "SHA-256, lowercase hex"), ChunkParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = UploadStatus),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`forbidden`: only a technician's device uploads"),
        (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<ChunkParams>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<UploadStatus>> {
    authorize(&actor, Action::UploadBlob)?;
    let body = body.map_err(|r| ApiError::new(r.status(), "body_unreadable", r.body_text()))?;
    let id: BlobId = parse_id(&id)?;
    if body.len() > MAX_CHUNK_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "chunk_too_large",
            format!("send chunks of at most {MAX_CHUNK_BYTES} bytes"),
        ));
    }
    if params.total == 0 || params.total > MAX_BLOB_BYTES {
        return Err(ApiError::bad_request(format!("total must be 1 to {MAX_BLOB_BYTES} bytes")));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request("the chunk is empty"));
    }
    let status = state.db.upload_chunk(&id, actor.user.id, params.offset, params.total, &body).await?;
    metrics::counter!("fieldbook_blob_bytes_received_total").increment(body.len() as u64);
    Ok(Json(status))
}

/// How far an upload got (to resume it), or that the blob is stored.
#[utoipa::path(get, operation_id = "upload_status", path = "/v1/blobs/{id}/status", params(("id" = String, Path, description = "SHA-256, lowercase hex")), responses(
    (status = 200, body = UploadStatus),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: only a technician's device uploads"),
    (status = 404, body = ErrorBody),
))]
pub async fn status(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UploadStatus>> {
    authorize(&actor, Action::UploadBlob)?;
    let id: BlobId = parse_id(&id)?;
    state
        .db
        .upload_status(&id, actor.user.id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no such blob or upload"))
}

/// A stored blob that a work order's record names, to whoever uploaded it or may read one of
/// those work orders. Missing and forbidden answer alike (404).
#[utoipa::path(get, operation_id = "download_blob", path = "/v1/blobs/{id}", params(("id" = String, Path, description = "SHA-256, lowercase hex")), responses(
    (status = 200, content_type = "application/octet-stream", body = Vec<u8>),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`not_found`: no such blob, or not one the caller may read"),
))]
pub async fn download(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let id: BlobId = parse_id(&id)?;
    let mut owners = Vec::new();
    for work_order_id in state.db.blob_work_orders(&id).await? {
        if let Some(work_order) = state.db.work_order(work_order_id).await? {
            let assignee = match work_order.assignee {
                Some(user) => state.db.user(user).await?,
                None => None,
            };
            owners.push((work_order, assignee));
        }
    }
    let missing = || ApiError::not_found("no such blob");
    if owners.is_empty() {
        return Err(missing());
    }
    if authorize(&actor, Action::ReadBlob { work_orders: &owners }).is_err()
        && !state.db.holds_blob(&id, actor.user.id).await?
    {
        return Err(missing());
    }
    let bytes = state.db.blob(&id).await?.ok_or_else(missing)?;
    Ok(([("content-type", "application/octet-stream")], bytes))
}
