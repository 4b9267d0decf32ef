//! The HTTP API. Every handler is annotated for OpenAPI; the document at `/openapi.json` is
//! generated from these annotations, never written by hand.

mod admin;
mod blobs;
mod catalog;
mod conflicts;
mod enroll;
mod reports;
mod schedules;
mod sync;
mod work_orders;

pub use admin::new_user_record;

use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use fieldbook_protocol::{Health, PROTOCOL_HEADER, PROTOCOL_VERSION};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Required, schema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ApiError;
use crate::observe;

#[derive(OpenApi)]
#[openapi(info(title = "Fieldbook server", description = "Sync hub for Fieldbook devices and the supervisors' API."))]
struct ApiDoc;

/// Operations that need no sign-in.
const PUBLIC: &[&str] = &["/v1/enroll"];

/// Adds the protocol header to every `/v1` operation and the bearer token to every one that
/// needs a signed-in device.
struct ProtocolAndAuth;

impl utoipa::Modify for ProtocolAndAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1/") {
                continue;
            }
            let public = PUBLIC.contains(&path.as_str());
            let operations: [&mut Option<Operation>; 5] =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                add_common_responses(operation, public);
                let header = ParameterBuilder::new()
                    .name(PROTOCOL_HEADER)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some("The Fieldbook protocol version the client speaks."))
                    .schema(Some(
                        schema::ObjectBuilder::new()
                            .schema_type(schema::Type::Integer)
                            .enum_values(Some([PROTOCOL_VERSION]))
                            .build(),
                    ))
                    .build();
                operation.parameters.get_or_insert_with(Vec::new).push(header);
                if !public {
                    operation.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                }
            }
        }
    }
}

/// Adds to an operation the answers that come from what every request passes through rather than
/// from its handler, so that the document lists every status the server can answer: the
/// protocol check (400 `protocol_missing`, 426 `protocol_mismatch`), sign-in (401), the storage
/// (503 `storage_unavailable`), and, where the operation reads them, the query string (400
/// `invalid_query`), the path (400 `invalid_path`) and a JSON body (400 `invalid_json`, 413
/// `body_too_large`, 415 `not_json`, 422 `invalid_json`).
fn add_common_responses(operation: &mut Operation, public: bool) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let params = operation.parameters.as_deref().unwrap_or_default();
    let reads_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let reads_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
    let reads_json =
        operation.request_body.as_ref().is_some_and(|body| body.content.keys().any(|kind| kind == "application/json"));
    let mut answers: Vec<(&str, &str)> = vec![
        ("426", "`protocol_mismatch`: the request spoke another protocol version"),
        ("503", "`storage_unavailable`: nothing was changed; try again"),
    ];
    let mut bad = vec!["`protocol_missing`"];
    if !public {
        answers.push(("401", "`unauthorized`: sign in again (the token is missing, unknown or revoked)"));
    }
    if reads_query {
        bad.push("`invalid_query`");
    }
    if reads_path {
        bad.push("`invalid_path`");
    }
    if reads_json {
        bad.push("`invalid_json` (not JSON)");
        answers.push(("413", "`body_too_large`"));
        answers.push(("415", "`not_json`: send `content-type: application/json`"));
        answers.push(("422", "`invalid_json`: JSON of the wrong shape"));
    }
    let bad = format!("{} (and any the operation names)", bad.join(", "));
    answers.push(("400", &bad));
    for (status, description) in answers {
        // An answer the handler documents itself keeps its own description.
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build()
                .into()
        });
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(enroll::enroll))
        .routes(routes!(sync::push))
        .routes(routes!(sync::pull))
        .routes(routes!(sync::pull_stream))
        .routes(routes!(blobs::missing))
        .routes(routes!(blobs::upload, blobs::download))
        .routes(routes!(blobs::status))
        .routes(routes!(work_orders::list, work_orders::create))
        .routes(routes!(work_orders::get, work_orders::update))
        .routes(routes!(work_orders::assign))
        .routes(routes!(work_orders::cancel))
        .routes(routes!(work_orders::review))
        .routes(routes!(reports::of_work_order))
        .routes(routes!(reports::check))
        .routes(routes!(conflicts::list))
        .routes(routes!(conflicts::resolve))
        .routes(routes!(catalog::templates, catalog::create_template))
        .routes(routes!(catalog::parts, catalog::put_part))
        .routes(routes!(catalog::policies, catalog::create_policy))
        .routes(routes!(catalog::customers, catalog::create_customer))
        .routes(routes!(catalog::create_site))
        .routes(routes!(catalog::create_asset))
        .routes(routes!(catalog::dispatch_reference))
        .routes(routes!(schedules::list, schedules::create))
        .routes(routes!(schedules::set_active))
        .routes(routes!(admin::users, admin::create_user))
        .routes(routes!(admin::disable_user))
        .routes(routes!(admin::enable_user))
        .routes(routes!(admin::devices))
        .routes(routes!(admin::revoke_device))
}

pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api().split_for_parts();
    let (_, health_doc) = OpenApiRouter::<AppState>::new().routes(routes!(healthz)).split_for_parts();
    doc.merge(health_doc);
    // Applied to the whole document: a modifier named in `#[openapi(...)]` runs before the
    // router adds its operations, and so never saw one of them.
    utoipa::Modify::modify(&ProtocolAndAuth, &mut doc);
    doc
}

pub(crate) fn router(state: AppState) -> axum::Router {
    let (api, _) = api().split_for_parts();
    let body_limit = state.config.max_body_bytes;
    let doc = openapi();
    // Install the metrics recorder before the first request is counted.
    observe::prometheus();
    // Bodies are limited where they are read (JSON and blob chunks), so an oversized body is
    // answered as JSON like every other error.
    let api = api
        .layer(axum::middleware::from_fn(observe::require_protocol))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit));
    axum::Router::new()
        .merge(api)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(move || async move { Json(doc.clone()) }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(observe::record_metrics))
        // Pull pages are repetitive JSON (the same customers, sites and templates): zstd or
        // gzip, as the client asks, shrinks them several times over (docs/benchmarks.md).
        // zstd's level 1 made a first sync's pages slightly smaller than its default level 3
        // (the stream is flushed in small pieces) in about half the CPU time.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .zstd(true)
                .gzip(true)
                .quality(tower_http::CompressionLevel::Fastest),
        )
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Liveness and the protocol version this server speaks.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into(), protocol: PROTOCOL_VERSION, version: env!("CARGO_PKG_VERSION").into() })
}

async fn metrics() -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4")], observe::prometheus().render())
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json for the API")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; see /openapi.json",
    )
}
