//! Reference data supervisors maintain: checklist templates, the parts catalog, service
//! policies, customers with their sites and equipment.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fieldbook_domain::{Asset, AssetId, ChecklistTemplate, Customer, CustomerId, ServicePolicy, Site, SiteId, text};
use fieldbook_protocol::{CreateAsset, CreateCustomer, CreateSite, ErrorBody, PartCatalogEntry};
use fieldbook_server_db::ReferenceBatch;

use crate::AppState;
use crate::auth::Actor;
use crate::authz::{Action, authorize};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;

/// Every checklist template, every version.
#[utoipa::path(get, path = "/v1/templates", responses((status = 200, body = Vec<ChecklistTemplate>), (status = 401, body = ErrorBody)))]
pub async fn templates(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<Vec<ChecklistTemplate>>> {
    authorize(&actor, Action::ReadCatalog)?;
    Ok(Json(state.db.templates().await?))
}

/// Adds a template version. A version in use is never edited: send a new id and version.
#[utoipa::path(post, path = "/v1/templates", request_body = ChecklistTemplate, responses(
    (status = 201, body = ChecklistTemplate),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
pub async fn create_template(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(template): ApiJson<ChecklistTemplate>,
) -> ApiResult<(StatusCode, Json<ChecklistTemplate>)> {
    authorize(&actor, Action::EditCatalog)?;
    template.validate().map_err(ApiError::bad_request)?;
    text::required_text("template code", &template.code, 100)?;
    if template.items.is_empty() {
        return Err(ApiError::bad_request("a checklist template needs at least one item"));
    }
    state.db.import(ReferenceBatch { templates: vec![template.clone()], ..Default::default() }).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

/// The parts catalog. The `ETag` is the body's SHA-256: a device that sends it back in
/// `If-None-Match` gets `304 Not Modified` while the catalog is unchanged.
#[utoipa::path(get, path = "/v1/parts", responses(
    (status = 200, body = Vec<PartCatalogEntry>),
    (status = 304, description = "the catalog is unchanged since the ETag given"),
    (status = 401, body = ErrorBody),
))]
pub async fn parts(State(state): State<AppState>, actor: Actor, headers: HeaderMap) -> ApiResult<Response> {
    authorize(&actor, Action::ReadCatalog)?;
    let body = serde_json::to_vec(&state.db.parts().await?)
        .map_err(|e| ApiError::internal(format!("the parts catalog could not be written out: {e}")))?;
    tagged(body, &headers)
}

/// A JSON body with its SHA-256 as the `ETag`, or `304 Not Modified` when the caller sent
/// that tag in `If-None-Match`.
fn tagged(body: Vec<u8>, headers: &HeaderMap) -> ApiResult<Response> {
    use sha2::Digest;
    let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(&body)));
    let unchanged = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    let value = HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(e.to_string()))?;
    response.headers_mut().insert(header::ETAG, value);
    Ok(response)
}

/// Adds a part to the catalog or updates it (by part number).
#[utoipa::path(put, path = "/v1/parts", request_body = PartCatalogEntry, responses(
    (status = 200, body = PartCatalogEntry),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
pub async fn put_part(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(part): ApiJson<PartCatalogEntry>,
) -> ApiResult<Json<PartCatalogEntry>> {
    authorize(&actor, Action::EditCatalog)?;
    let part = PartCatalogEntry {
        part_number: text::required_text("part number", &part.part_number, 64)?,
        name: text::required_text("part name", &part.name, 200)?,
        needs_customer_approval: part.needs_customer_approval,
        unit_price_cents: part.unit_price_cents,
    };
    if part.unit_price_cents < 0 {
        return Err(fieldbook_domain::InvalidInput::NegativePrice(part.unit_price_cents).into());
    }
    state.db.import(ReferenceBatch { parts: vec![part.clone()], ..Default::default() }).await?;
    Ok(Json(part))
}

/// Service-level policies.
#[utoipa::path(get, path = "/v1/policies", responses((status = 200, body = Vec<ServicePolicy>), (status = 401, body = ErrorBody)))]
pub async fn policies(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<Vec<ServicePolicy>>> {
    authorize(&actor, Action::ReadCatalog)?;
    Ok(Json(state.db.policies().await?))
}

/// Adds or replaces a service-level policy. Work orders keep the deadlines they were given.
#[utoipa::path(post, path = "/v1/policies", request_body = ServicePolicy, responses(
    (status = 201, body = ServicePolicy),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
pub async fn create_policy(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(policy): ApiJson<ServicePolicy>,
) -> ApiResult<(StatusCode, Json<ServicePolicy>)> {
    authorize(&actor, Action::EditCatalog)?;
    if !(-14 * 60..=14 * 60).contains(&policy.utc_offset_minutes) {
        return Err(ApiError::bad_request("utc_offset_minutes must be between -840 and 840"));
    }
    state.db.import(ReferenceBatch { policies: vec![policy.clone()], ..Default::default() }).await?;
    Ok((StatusCode::CREATED, Json(policy)))
}

/// Customers.
#[utoipa::path(get, path = "/v1/customers", responses((status = 200, body = Vec<Customer>), (status = 401, body = ErrorBody)))]
pub async fn customers(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<Vec<Customer>>> {
    authorize(&actor, Action::ReadCatalog)?;
    Ok(Json(state.db.customers().await?))
}

/// Adds a customer under a service policy.
#[utoipa::path(post, path = "/v1/customers", request_body = CreateCustomer, responses(
    (status = 201, body = Customer),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn create_customer(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(request): ApiJson<CreateCustomer>,
) -> ApiResult<(StatusCode, Json<Customer>)> {
    authorize(&actor, Action::EditCatalog)?;
    state.db.policy(request.policy_id).await?.ok_or_else(|| ApiError::not_found("no such service policy"))?;
    let customer = Customer {
        id: CustomerId::new(),
        name: text::required_text("customer name", &request.name, 200)?,
        address: text::optional_text("address", &request.address, 500)?,
        policy_id: request.policy_id,
    };
    state.db.import(ReferenceBatch { customers: vec![customer.clone()], ..Default::default() }).await?;
    Ok((StatusCode::CREATED, Json(customer)))
}

/// Adds a site of a customer.
#[utoipa::path(post, path = "/v1/sites", request_body = CreateSite, responses(
    (status = 201, body = Site),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn create_site(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(request): ApiJson<CreateSite>,
) -> ApiResult<(StatusCode, Json<Site>)> {
    authorize(&actor, Action::EditCatalog)?;
    state.db.customer(request.customer_id).await?.ok_or_else(|| ApiError::not_found("no such customer"))?;
    let site = Site {
        id: SiteId::new(),
        customer_id: request.customer_id,
        name: text::required_text("site name", &request.name, 200)?,
        address: text::optional_text("address", &request.address, 500)?,
    };
    state.db.import(ReferenceBatch { sites: vec![site.clone()], ..Default::default() }).await?;
    Ok((StatusCode::CREATED, Json(site)))
}

/// Adds a piece of installed equipment at a site.
#[utoipa::path(post, path = "/v1/assets", request_body = CreateAsset, responses(
    (status = 201, body = Asset),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn create_asset(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(request): ApiJson<CreateAsset>,
) -> ApiResult<(StatusCode, Json<Asset>)> {
    authorize(&actor, Action::EditCatalog)?;
    state.db.site(request.site_id).await?.ok_or_else(|| ApiError::not_found("no such site"))?;
    let asset = Asset {
        id: AssetId::new(),
        site_id: request.site_id,
        model: text::required_text("model", &request.model, 200)?,
        serial: text::optional_text("serial", &request.serial, 128)?,
        location: text::optional_text("location", &request.location, 200)?,
        warranty_end: request.warranty_end,
    };
    state.db.import(ReferenceBatch { assets: vec![asset.clone()], ..Default::default() }).await?;
    Ok((StatusCode::CREATED, Json(asset)))
}

/// What a supervisor's device needs to record calls and dispatch offline: every service
/// policy, customer, site, asset and checklist template, and the active technicians of the
/// caller's team (every technician for an admin). The `ETag` is the body's SHA-256: sent back
/// in `If-None-Match`, it gets `304 Not Modified` while nothing changed.
#[utoipa::path(get, path = "/v1/dispatch/reference", responses(
    (status = 200, body = fieldbook_protocol::ReferenceData),
    (status = 304, description = "nothing changed since the ETag given"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
pub async fn dispatch_reference(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&actor, Action::ReadUsers)?;
    let team_of = match crate::authz::work_order_scope(&actor) {
        crate::authz::Scope::Team(me) => Some(me),
        _ => None,
    };
    let body = serde_json::to_vec(&state.db.dispatch_reference(team_of).await?)
        .map_err(|e| ApiError::internal(format!("the dispatch reference could not be written out: {e}")))?;
    tagged(body, &headers)
}
